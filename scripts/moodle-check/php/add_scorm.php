<?php
// add-scorm PACKAGE.zip [--course=SHORTNAME]: adds a SCORM activity with this package to a course (as
// Add an activity > SCORM package does) and prints what Moodle's parser made of it: version, SCOs, launch.
require(__DIR__ . '/common.php');
require_once($CFG->dirroot . '/course/modlib.php');
require_once($CFG->dirroot . '/mod/scorm/locallib.php');

[$options, $files] = mc_args(['course' => 'moodle-check-scorm']);
if ($options['help'] || count($files) !== 1 || !is_readable($files[0])) {
    cli_error("usage: add-scorm PACKAGE.zip [--course=SHORTNAME]", 2);
}
$file = realpath($files[0]);
$course = mc_course($options['course']);

$usercontext = context_user::instance($USER->id);
$draftitemid = file_get_unused_draft_itemid();
get_file_storage()->create_file_from_pathname(['contextid' => $usercontext->id, 'component' => 'user',
    'filearea' => 'draft', 'itemid' => $draftitemid, 'filepath' => '/', 'filename' => basename($file)], $file);

$errors = [];
$draftfiles = get_file_storage()->get_area_files($usercontext->id, 'user', 'draft', $draftitemid, 'id DESC', false);
$validation = scorm_validate_package(reset($draftfiles));
foreach ($validation as $key => $message) {
    $errors[] = "$key: $message";
}

$cm = null;
if (!$errors) {
    $config = get_config('scorm');
    $moduleinfo = (object) [
        'modulename' => 'scorm', 'module' => $DB->get_field('modules', 'id', ['name' => 'scorm']),
        'course' => $course->id, 'section' => 0, 'visible' => 1, 'name' => basename($file, '.zip'),
        'introeditor' => ['text' => '', 'format' => FORMAT_HTML, 'itemid' => 0],
        'scormtype' => SCORM_TYPE_LOCAL, 'packagefile' => $draftitemid,
        'grademethod' => $config->grademethod, 'maxgrade' => $config->maxgrade, 'maxattempt' => $config->maxattempt,
        'whatgrade' => $config->whatgrade, 'displayattemptstatus' => $config->displayattemptstatus,
        'forcecompleted' => $config->forcecompleted, 'forcenewattempt' => $config->forcenewattempt,
        'lastattemptlock' => $config->lastattemptlock, 'popup' => $config->popup, 'width' => $config->framewidth,
        'height' => $config->frameheight, 'skipview' => $config->skipview, 'hidebrowse' => $config->hidebrowse,
        'displaycoursestructure' => $config->displaycoursestructure, 'hidetoc' => $config->hidetoc,
        'nav' => $config->nav, 'navpositionleft' => $config->navpositionleft,
        'navpositiontop' => $config->navpositiontop, 'auto' => $config->auto, 'updatefreq' => 0,
        'cmidnumber' => '', 'completionunlocked' => 1,
    ];
    $cm = create_module($moduleinfo);
}

echo "Moodle {$CFG->release}: " . basename($file) . " into course {$course->shortname}\n";
if ($cm) {
    $scorm = $DB->get_record('scorm', ['id' => $cm->instance], '*', MUST_EXIST);
    $scoes = $DB->get_records('scorm_scoes', ['scorm' => $scorm->id], 'sortorder');
    $launchable = array_filter($scoes, fn($sco) => $sco->launch !== '');
    echo "version: {$scorm->version}\n";
    echo "launch: " . ($scoes[$scorm->launch]->launch ?? '(none)') . "\n";
    foreach ($scoes as $sco) {
        echo "  " . ($sco->launch !== '' ? 'sco' : 'item') . ": {$sco->title}" . ($sco->launch ? " → {$sco->launch}" : '') . "\n";
    }
    echo "scos: " . count($launchable) . "\n";
    if (!in_array($scorm->version, ['SCORM_1.2', 'SCORM_1.3'], true)) {
        $errors[] = "Moodle did not recognise the package version ({$scorm->version})";
    }
    if (!$launchable) {
        $errors[] = 'Moodle found no launchable SCO';
    }
}
echo "== Errors: " . count($errors) . " ==\n";
foreach ($errors as $message) {
    echo "  error: $message\n";
}
exit($errors ? 1 : 0);
