<?php
// import-questions FILE [--format=xml|gift] [--course=SHORTNAME] [--bank=NAME]: imports a question file into a
// course's question bank the way Question bank > Import does (categories and contexts from the file, grades
// must match exactly, stop on error) and prints "imported: N/M" (M = what Moodle parsed from the file), the
// types and, per bank, where the questions landed ("landed: BANK: N").
// Moodle 5.x keeps banks in mod_qbank instances: there the import starts from the course's default bank, or
// with --bank from a question bank activity of that name (made if missing), as a designer's own bank would be.
require(__DIR__ . '/common.php');
require_once($CFG->libdir . '/questionlib.php');
require_once($CFG->dirroot . '/question/format.php');

[$options, $files] = mc_args(['format' => 'xml', 'course' => 'moodle-check-banks', 'bank' => '']);
if ($options['help'] || count($files) !== 1 || !is_readable($files[0])) {
    cli_error("usage: import-questions FILE [--format=xml|gift] [--course=SHORTNAME] [--bank=NAME]", 2);
}
$format = clean_param($options['format'], PARAM_PLUGIN);
$formatfile = "$CFG->dirroot/question/format/$format/format.php";
if (!is_readable($formatfile)) {
    cli_error("import-questions: no question format '$format' in this Moodle", 2);
}
require_once($formatfile);

$course = mc_course($options['course']);
if ($options['bank'] !== '' && !mc_has_qbank_module()) {
    cli_error('import-questions: --bank needs Moodle 5.0 or later (question bank activities)', 2);
}
$context = mc_bank_context($course, $options['bank']);
// As Question bank > Import: into the bank's default category (question_make_default_categories() is
// deprecated on 5.x and would print a debugging message).
$category = mc_has_qbank_module() ? question_get_default_category($context->id, true)
    : question_make_default_categories([$context]);
$contexts = new \core_question\local\bank\question_edit_contexts($context);

$classname = "qformat_$format";
$qformat = new $classname();
$qformat->setCategory($category);
$qformat->setContexts($contexts->having_one_edit_tab_cap('import'));
$qformat->setCourse($course);
$qformat->setFilename(realpath($files[0]));
$qformat->setRealfilename(basename($files[0]));
$qformat->setMatchgrades('error');
$qformat->setCatfromfile(true);
$qformat->setContextfromfile(true);
$qformat->setStoponerror(true);

ob_start();
$ok = $qformat->importpreprocess() && $qformat->importprocess() && $qformat->importpostprocess();
$html = ob_get_clean();
$parsed = preg_match('/Importing (\d+) questions from file/', $html, $m) ? (int) $m[1] : 0;
$imported = count($qformat->questionids);

echo "Moodle {$CFG->release}: " . basename($files[0]) . " ($format) into course {$course->shortname}, "
    . "context {$context->get_context_name()}\n";
echo "imported: $imported/$parsed\n";
// Moodle reports problems as notifications; its CLI renderer prints them as "!! message !!" ("++ … ++" = success).
$problems = $ok ? [] : ['Moodle refused the import'];
preg_match_all('/^!! (.*) !!$/m', $html, $found);
$problems = array_merge($problems, $found[1]);
echo "== Errors: " . count($problems) . " ==\n";
foreach ($problems as $line) {
    echo "  error: $line\n";
}
$types = [];
if ($qformat->questionids) {
    [$insql, $params] = $DB->get_in_or_equal($qformat->questionids);
    $types = $DB->get_records_sql_menu("SELECT qtype, COUNT(1) FROM {question} WHERE id $insql GROUP BY qtype", $params);
}
mc_print_counts('questions', $types);
if ($qformat->questionids) {
    $landed = $DB->get_records_sql_menu("SELECT qc.contextid, COUNT(1)
                                           FROM {question_versions} qv
                                           JOIN {question_bank_entries} qbe ON qbe.id = qv.questionbankentryid
                                           JOIN {question_categories} qc ON qc.id = qbe.questioncategoryid
                                          WHERE qv.questionid $insql
                                       GROUP BY qc.contextid", $params);
    foreach ($landed as $contextid => $n) {
        echo "landed: " . context::instance_by_id($contextid)->get_context_name(false) . ": $n\n";
    }
}
exit(!$ok || $problems || $imported !== $parsed || $parsed === 0 ? 1 : 0);
