<?php
// Shared by the moodle-check verbs: boots Moodle as the admin and prints what a restore/import left behind.
// Part of course_builder (scripts/moodle-check); runs inside the check site's Moodle, never on a real site.

define('CLI_SCRIPT', true);
define('MC_CALLER_DIR', getcwd());   // Moodle's setup changes directory; file arguments are relative to the caller
require(getenv('MOODLE_CODE') . '/config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->dirroot . '/course/lib.php');

\core\session\manager::set_user(get_admin());

/** True on Moodle 5.0 and later, where question banks live in mod_qbank instances, not in course contexts. */
function mc_has_qbank_module(): bool {
    return class_exists('\core_question\local\bank\question_bank_helper')
        && method_exists('\core_question\local\bank\question_bank_helper', 'get_default_open_instance_system_type');
}

/** The context of a course's question bank: the course (4.x), or on 5.x its default qbank instance or, with
 * $bank, the question bank activity of that name (made if missing, as a designer's own bank would be). */
function mc_bank_context(stdClass $course, string $bank = ''): context {
    if (mc_has_qbank_module()) {
        $helper = '\core_question\local\bank\question_bank_helper';
        $cm = $bank === '' ? $helper::get_default_open_instance_system_type($course, true)
            : (array_values(array_filter(get_fast_modinfo($course)->get_instances_of('qbank'),
                fn($instance) => $instance->name === $bank))[0] ?? $helper::create_default_open_instance($course, $bank));
        return context_module::instance($cm->id);
    }
    return context_course::instance($course->id);
}

/** The course with this shortname, created (in the default category) when missing. */
function mc_course(string $shortname): stdClass {
    global $DB;
    if ($course = $DB->get_record('course', ['shortname' => $shortname])) {
        return $course;
    }
    return create_course((object) ['fullname' => $shortname, 'shortname' => $shortname,
        'category' => core_course_category::get_default()->id, 'format' => 'topics', 'numsections' => 1]);
}

/** Counts, one "  name: N" line each, sorted by name (the tests read these lines). */
function mc_print_counts(string $title, array $counts): void {
    ksort($counts);
    echo "$title: " . array_sum($counts) . "\n";
    foreach ($counts as $name => $n) {
        echo "  $name: $n\n";
    }
}

/** Question types of the latest versions of the questions in a context and the contexts below it. */
function mc_question_counts(context $context): array {
    global $DB;
    $sql = "SELECT q.qtype, COUNT(1) AS n
              FROM {question} q
              JOIN {question_versions} qv ON qv.questionid = q.id
              JOIN {question_bank_entries} qbe ON qbe.id = qv.questionbankentryid
              JOIN {question_categories} qc ON qc.id = qbe.questioncategoryid
              JOIN {context} ctx ON ctx.id = qc.contextid
             WHERE (ctx.id = :ctxid OR ctx.path LIKE :path) AND q.parent = 0
               AND qv.version = (SELECT MAX(v.version) FROM {question_versions} v
                                  WHERE v.questionbankentryid = qbe.id)
          GROUP BY q.qtype";
    return $DB->get_records_sql_menu($sql, ['ctxid' => $context->id, 'path' => $context->path . '/%']);
}

/** [options, positional arguments]: cli_get_params() returns positional arguments among the unrecognised. */
function mc_args(array $longoptions): array {
    [$options, $rest] = cli_get_params($longoptions + ['help' => false], ['h' => 'help']);
    $unknown = array_filter($rest, fn($arg) => str_starts_with($arg, '-'));
    if ($unknown) {
        cli_error('unknown option(s): ' . implode(' ', $unknown), 2);
    }
    $paths = array_map(fn($arg) => str_starts_with($arg, '/') ? $arg : MC_CALLER_DIR . '/' . $arg,
        array_values(array_diff($rest, $unknown)));
    return [$options, $paths];
}
