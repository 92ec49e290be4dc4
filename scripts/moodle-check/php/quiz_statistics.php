<?php
// quiz-statistics --course=ID --quiz=NAME ANSWERS.json OUTDIR: makes learners take a quiz of a restored course, the
// way they would in the browser (quiz_prepare_and_start_new_attempt, their responses processed through the
// question engine, process_finish), then runs Moodle's own statistics computation (quiz_statistics_report,
// \core_question\statistics) and writes OUTDIR/statistics.json (its figures per slot) and OUTDIR/responses.csv
// (the columns of the quiz's Responses report: the learner, then per slot "Question N", "Response N" and
// "Right answer N", as the question engine summarises them).
//
// ANSWERS.json: {"prefix": "...", "learners": [{"first": "...", "last": "...", "answers": {QUESTION IDNUMBER: R}}]}
// with R one of {"choice": [index of the option in the question's source order, ...]}, {"truth": true|false},
// {"text": "..."}, {"order": [source indices]} (ordering),
// {"right": true} (the question's correct response); a question left out stays unanswered.
require(__DIR__ . '/common.php');
require_once($CFG->dirroot . '/mod/quiz/locallib.php');
require_once($CFG->dirroot . '/mod/quiz/report/reportlib.php');
require_once($CFG->dirroot . '/mod/quiz/report/statistics/report.php');
require_once($CFG->dirroot . '/user/lib.php');
require_once($CFG->libdir . '/enrollib.php');

[$options, $paths] = mc_args(['course' => 0, 'quiz' => '']);
if ($options['help'] || count($paths) !== 2 || !$options['course'] || $options['quiz'] === '') {
    cli_error("usage: quiz-statistics --course=ID --quiz=NAME ANSWERS.json OUTDIR", 2);
}
[$answersfile, $outdir] = $paths;
[$courseid, $quizname] = [$options['course'], $options['quiz']];
$input = json_decode(file_get_contents($answersfile), true);
$course = get_course((int) $courseid);
$quiz = $DB->get_record('quiz', ['course' => $course->id, 'name' => $quizname], '*', MUST_EXIST);
$cm = get_coursemodule_from_instance('quiz', $quiz->id, $course->id, false, MUST_EXIST);
$errors = [];
if ($DB->record_exists('quiz_attempts', ['quiz' => $quiz->id])) {
    // The statistics must cover exactly the attempts made here: restore the backup afresh for each run.
    cli_error("quiz-statistics: '{$quiz->name}' in course {$course->id} already has attempts; restore a new copy", 1);
}

$manual = enrol_get_plugin('manual');
$instance = $DB->get_record('enrol', ['courseid' => $course->id, 'enrol' => 'manual']);
if (!$instance) {
    $manual->add_default_instance($course);
    $instance = $DB->get_record('enrol', ['courseid' => $course->id, 'enrol' => 'manual'], '*', MUST_EXIST);
}
$studentrole = $DB->get_record('role', ['shortname' => 'student'], '*', MUST_EXIST);

/** The raw response data of one slot for an answer description from ANSWERS.json. */
function mc_response_data(question_attempt $qa, array $answer): array {
    $question = $qa->get_question();
    if (!empty($answer['right'])) {
        return $question->get_correct_response();
    }
    if (array_key_exists('order', $answer)) {  // qtype_ordering: item keys in the order given (source order indices)
        $ids = array_keys($question->answers);
        sort($ids, SORT_NUMERIC);
        $keys = array_map(fn($i) => $question->answers[$ids[$i]]->md5key, $answer['order']);
        return [$question->get_response_fieldname() => implode(',', $keys)];
    }
    if (array_key_exists('truth', $answer)) {
        return ['answer' => $answer['truth'] ? 1 : 0];
    }
    if (array_key_exists('text', $answer)) {
        return ['answer' => (string) $answer['text']];
    }
    if (array_key_exists('choice', $answer)) {
        $ids = array_keys($question->answers);
        sort($ids, SORT_NUMERIC);  // restored in source order
        $order = $question->get_order($qa);
        if ($question instanceof qtype_multichoice_single_question) {
            return ['answer' => array_search($ids[$answer['choice'][0]], $order)];
        }
        $data = [];
        foreach ($order as $fieldno => $ansid) {
            $data['choice' . $fieldno] = in_array(array_search($ansid, $ids), $answer['choice'], true) ? 1 : 0;
        }
        return $data;
    }
    return [];
}

$rows = [];
$slots = [];
foreach ($input['learners'] as $n => $learner) {
    $username = strtolower($input['prefix'] . '-' . $n);
    $user = $DB->get_record('user', ['username' => $username]);
    if (!$user) {
        $user = $DB->get_record('user', ['id' => user_create_user((object) ['username' => $username,
            'firstname' => $learner['first'], 'lastname' => $learner['last'], 'email' => "$username@example.invalid",
            'auth' => 'manual', 'confirmed' => 1, 'mnethostid' => $CFG->mnet_localhost_id, 'password' => 'x'], false, false)]);
    }
    $manual->enrol_user($instance, $user->id, $studentrole->id);
    \core\session\manager::set_user($user);
    $quizobj = \mod_quiz\quiz_settings::create($quiz->id, $user->id);
    $attempt = quiz_prepare_and_start_new_attempt($quizobj, 1, null);
    $attemptobj = \mod_quiz\quiz_attempt::create($attempt->id);
    $now = time();
    $postdata = ['slots' => implode(',', $attemptobj->get_slots())];
    foreach ($attemptobj->get_slots() as $slot) {
        // What the attempt page posts: each response field by its qt name, and the sequence check.
        $qa = $attemptobj->get_question_attempt($slot);
        $idnumber = $qa->get_question()->idnumber;
        $slots[$slot] = $idnumber;
        $postdata[$qa->get_control_field_name('sequencecheck')] = $qa->get_sequence_check_count();
        $data = isset($learner['answers'][$idnumber]) ? mc_response_data($qa, $learner['answers'][$idnumber]) : [];
        foreach ($data as $name => $value) {
            $postdata[$qa->get_qt_field_name($name)] = $value;
        }
    }
    $attemptobj->process_submitted_actions($now, false, $postdata);
    $attemptobj = \mod_quiz\quiz_attempt::create($attempt->id);
    $attemptobj->process_finish($now, false);
    $attemptobj = \mod_quiz\quiz_attempt::create($attempt->id);
    $row = [$learner['first'], $learner['last'], $user->email];
    foreach ($attemptobj->get_slots() as $slot) {
        $qa = $attemptobj->get_question_attempt($slot);
        $row[] = $qa->get_question_summary();
        $row[] = $qa->get_response_summary() ?? '-';
        $row[] = $qa->get_right_answer_summary() ?? '';
        $row[] = $qa->get_fraction();
    }
    $rows[] = $row;
    \core\session\manager::set_user(get_admin());
}

// Moodle's Statistics report for the quiz, computed afresh.
$report = new quiz_statistics_report();
$questions = $report->load_and_initialise_questions_for_calculations($quiz);
$qubaids = quiz_statistics_qubaids_condition($quiz->id, new \core\dml\sql_join(), $quiz->grademethod);
$report->clear_cached_data($qubaids);
[$quizstats, $questionstats] = $report->get_all_stats_and_analysis($quiz, $quiz->grademethod,
    question_attempt::ALL_TRIES, new \core\dml\sql_join(), $questions);
$stats = ['moodle' => $CFG->release, 'attempts' => $quizstats->s(), 'slots' => []];
foreach ($questions as $slot => $question) {
    $s = $questionstats->for_slot($slot);
    $stats['slots'][] = ['slot' => $slot, 'question' => $slots[$slot] ?? null, 's' => $s->s,
        'facility' => $s->facility, 'sd' => $s->sd !== null && $s->maxmark ? $s->sd / $s->maxmark : null,
        'random_guess_score' => $s->randomguessscore, 'discrimination_index' => $s->discriminationindex,
        'discriminative_efficiency' => $s->discriminativeefficiency];
}

check_dir_exists($outdir);
file_put_contents("$outdir/statistics.json", json_encode($stats, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE) . "\n");
$fh = fopen("$outdir/responses.csv", 'w');
fwrite($fh, "\xEF\xBB\xBF");
$header = ['First name', 'Last name', 'Email address'];
foreach (array_keys($slots) as $slot) {
    $header = array_merge($header, ["Question $slot", "Response $slot", "Right answer $slot", "Fraction $slot"]);
}
fputcsv($fh, $header);
foreach ($rows as $row) {
    fputcsv($fh, $row);
}
fclose($fh);
echo "Moodle {$CFG->release}: " . count($rows) . " attempts at '{$quiz->name}', statistics of " . count($stats['slots']) . " slots\n";
echo "== Errors: " . count($errors) . " ==\n";
exit(0);
