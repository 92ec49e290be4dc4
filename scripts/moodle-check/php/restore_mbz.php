<?php
// restore-mbz FILE.mbz|FILE.imscc [--category=ID]: restores a Moodle backup (or converts and restores a Common
// Cartridge) as a new course, the way Restore > "Restore as a new course" does, and prints Moodle's errors and
// warnings (precheck and restore log) and what the course holds: sections, activities, questions by type.
require(__DIR__ . '/common.php');
require_once($CFG->dirroot . '/backup/util/includes/restore_includes.php');

[$options, $files] = mc_args(['category' => 0]);
if ($options['help'] || count($files) !== 1 || !is_readable($files[0])) {
    cli_error("usage: restore-mbz FILE.mbz|FILE.imscc [--category=ID]", 2);
}
$file = realpath($files[0]);

/** Keeps what the restore logs at warning level or worse. */
class mc_collecting_logger extends base_logger {
    public array $messages = [];
    protected function action($message, $level, $options = null) {
        $this->messages[] = [$level, $message];
        return true;
    }
}

$admin = get_admin();
$backupid = restore_controller::get_tempdir_name(SITEID, $admin->id);
$tempdir = make_backup_temp_directory($backupid);
if (!get_file_packer('application/vnd.moodle.backup')->extract_to_pathname($file, $tempdir)) {
    cli_error("restore-mbz: $file is not a Moodle backup archive", 1);
}
$category = $options['category'] ?: core_course_category::get_default()->id;
$shortname = 'restore-' . date('Ymd-His') . '-' . substr(md5($file . microtime()), 0, 4);
$courseid = restore_dbops::create_new_course(basename($file), $shortname, $category);

$rc = new restore_controller($backupid, $courseid, backup::INTERACTIVE_NO, backup::MODE_GENERAL, $admin->id,
    backup::TARGET_NEW_COURSE);
$logger = new mc_collecting_logger(backup::LOG_WARNING);
$rc->add_logger($logger);
if ($rc->get_status() == backup::STATUS_REQUIRE_CONV) {
    // An IMS Common Cartridge goes through Moodle's converters first, as in the restore UI. The CC converter
    // loads its templates by paths relative to backup/ (cc/sheets/...), where the web restore runs.
    chdir($CFG->dirroot . '/backup');
    $rc->convert();
}
$errors = $warnings = [];
// execute_precheck() is false on warnings too; the restore UI shows them and lets the user continue, so only
// precheck errors stop the restore here.
$rc->execute_precheck();
$precheck = $rc->get_precheck_results();
if (empty($precheck['errors'])) {
    $rc->execute_plan();
}
$errors = array_merge($errors, $precheck['errors'] ?? []);
$warnings = array_merge($warnings, $precheck['warnings'] ?? []);
foreach ($logger->messages as [$level, $message]) {
    if ($level == backup::LOG_ERROR) {
        $errors[] = $message;
    } else {
        $warnings[] = $message;
    }
}
$status = $rc->get_status();
$rc->destroy();
if ($status != backup::STATUS_FINISHED_OK && !$errors) {
    $errors[] = "restore ended with status $status";
}

$course = get_course($courseid);
echo "Moodle {$CFG->release}: restored " . basename($file) . " as course id $courseid ($shortname)\n";
echo "== Errors: " . count($errors) . " ==\n";
foreach ($errors as $message) {
    echo "  error: $message\n";
}
echo "== Warnings: " . count($warnings) . " ==\n";
foreach ($warnings as $message) {
    echo "  warning: $message\n";
}
$modinfo = get_fast_modinfo($course);
echo "format: {$course->format}\n";
echo "sections: " . count($modinfo->get_section_info_all()) . "\n";
foreach ($modinfo->get_section_info_all() as $section) {
    $name = get_section_name($course, $section);
    $mods = array_map(fn($cmid) => $modinfo->get_cm($cmid)->modname, $modinfo->sections[$section->section] ?? []);
    echo "  #{$section->section} {$name} [" . implode(' ', $mods) . "]\n";
}
$modules = [];
foreach ($modinfo->get_cms() as $cm) {
    $modules[$cm->modname] = ($modules[$cm->modname] ?? 0) + 1;
}
mc_print_counts('activities', $modules);
mc_print_counts('questions', mc_question_counts(context_course::instance($courseid)));
if (mc_has_qbank_module()) {
    // Moodle 5.x: which question bank activities hold the questions ("bank: NAME (TYPE): N").
    foreach ($modinfo->get_instances_of('qbank') as $cm) {
        $type = $DB->get_field('qbank', 'type', ['id' => $cm->instance]);
        echo "bank: {$cm->name} ($type): " . array_sum(mc_question_counts($cm->context)) . "\n";
    }
}
exit($errors || $warnings ? 1 : 0);
