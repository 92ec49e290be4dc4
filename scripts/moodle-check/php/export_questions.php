<?php
// export-questions OUTFILE [--course=SHORTNAME]: writes a course's question bank as Moodle XML the way
// Question bank > Export does (every category below the course's top one, with categories and contexts
// in the file) and prints "exported: N" and the types. Used to import Moodle's own export back
// (course import questions) for a round trip. Moodle 5.x: the course's default qbank instance.
require(__DIR__ . '/common.php');
require_once($CFG->libdir . '/questionlib.php');
require_once($CFG->dirroot . '/question/editlib.php');  // get_questions_category(), which the exporter calls
require_once($CFG->dirroot . '/question/format.php');
require_once($CFG->dirroot . '/question/format/xml/format.php');

[$options, $files] = mc_args(['course' => 'moodle-check-banks']);
if ($options['help'] || count($files) !== 1) {
    cli_error("usage: export-questions OUTFILE [--course=SHORTNAME]", 2);
}
$course = mc_course($options['course']);
$context = mc_bank_context($course);
$top = question_get_top_category($context->id, true);
$contexts = new \core_question\local\bank\question_edit_contexts($context);

$qformat = new qformat_xml();
$qformat->setContexts($contexts->having_one_edit_tab_cap('export'));
$qformat->setCategory($top);
$qformat->setCourse($course);
$qformat->setCattofile(true);
$qformat->setContexttofile(true);

ob_start();
$content = $qformat->exportpreprocess() ? $qformat->exportprocess(true) : false;
$html = ob_get_clean();
$problems = $content === false ? ['Moodle refused the export'] : [];
preg_match_all('/^!! (.*) !!$/m', $html, $found);
$problems = array_merge($problems, $found[1]);
$out = str_starts_with($files[0], '/') ? $files[0] : MC_CALLER_DIR . '/' . $files[0];
if ($content !== false && file_put_contents($out, $content) === false) {
    $problems[] = "cannot write $out";
}
$types = [];
if ($content !== false) {
    preg_match_all('/<question type="([a-z_]+)">/', $content, $m);
    foreach ($m[1] as $qtype) {
        if ($qtype !== 'category') {
            $types[$qtype] = ($types[$qtype] ?? 0) + 1;
        }
    }
}
echo "Moodle {$CFG->release}: course {$course->shortname}, context {$context->get_context_name()} → " . basename($out) . "\n";
echo "exported: " . array_sum($types) . "\n";
echo "== Errors: " . count($problems) . " ==\n";
foreach ($problems as $line) {
    echo "  error: $line\n";
}
mc_print_counts('questions', $types);
exit($problems ? 1 : 0);
