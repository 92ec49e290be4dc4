<?php
// register-lti --url=TOOL_URL [--name=NAME]: registers course_builder's LTI 1.3 tool (`course serve`) as a
// site-wide preconfigured external tool in mod_lti (what Site administration > Plugins > Activity modules >
// External tool > Manage tools > configure a tool manually does) and prints the values the tool needs.
// Idempotent: a tool type with the same tool URL is updated, not added twice.
require(__DIR__ . '/common.php');
require_once($CFG->dirroot . '/mod/lti/locallib.php');

[$options] = mc_args(['url' => '', 'name' => 'course_builder']);
$url = rtrim($options['url'], '/');
if ($options['help'] || !preg_match('~^https?://~', $url)) {
    cli_error("usage: register-lti --url=http://127.0.0.1:8000 [--name=NAME]  (the base URL of `course serve`)", 2);
}
$launch = "$url/lti/launch";
$type = (object) ['name' => $options['name'], 'baseurl' => $launch, 'ltiversion' => LTI_VERSION_1P3,
    'state' => LTI_TOOL_STATE_CONFIGURED, 'coursevisible' => LTI_COURSEVISIBLE_ACTIVITYCHOOSER,
    'description' => 'course_builder modules (LTI 1.3)'];
$config = (object) [
    'lti_typename' => $options['name'], 'lti_toolurl' => $launch, 'lti_ltiversion' => LTI_VERSION_1P3,
    'lti_keytype' => LTI_JWK_KEYSET, 'lti_publickeyset' => "$url/.well-known/jwks.json",
    'lti_initiatelogin' => "$url/lti/login", 'lti_redirectionuris' => $launch,
    'lti_contentitem' => 1, 'lti_toolurl_ContentItemSelectionRequest' => $launch,
    'lti_coursevisible' => LTI_COURSEVISIBLE_ACTIVITYCHOOSER, 'lti_launchcontainer' => LTI_LAUNCH_CONTAINER_EMBED,
    'lti_sendname' => LTI_SETTING_ALWAYS, 'lti_sendemailaddr' => LTI_SETTING_ALWAYS,
    'lti_acceptgrades' => LTI_SETTING_ALWAYS, 'lti_forcessl' => 0,
    'ltiservice_gradesynchronization' => 2, 'ltiservice_memberships' => 1, 'ltiservice_toolsettings' => 0,
];
$existing = $DB->get_record_select('lti_types', $DB->sql_compare_text('baseurl', 1333) . ' = ' . $DB->sql_compare_text(':url', 1333)
    . ' AND course = :course', ['url' => $launch, 'course' => SITEID]);
if ($existing) {
    $type->id = $existing->id;
    $config->lti_clientid = $existing->clientid;   // keep the client id the tool already knows
    lti_update_type($type, $config);
    $typeid = $existing->id;
    $action = 'updated';
} else {
    $typeid = lti_add_type($type, $config);
    $action = 'added';
}
$saved = $DB->get_record('lti_types', ['id' => $typeid], '*', MUST_EXIST);
$errors = $saved->clientid ? [] : ['Moodle assigned no client id'];

echo "Moodle {$CFG->release}: tool type $typeid $action ({$saved->name}, LTI {$saved->ltiversion})\n";
echo "issuer: {$CFG->wwwroot}\n";
echo "client id: {$saved->clientid}\n";
echo "deployment id: $typeid\n";
echo "platform login URL: {$CFG->wwwroot}/mod/lti/auth.php\n";
echo "platform token URL: {$CFG->wwwroot}/mod/lti/token.php\n";
echo "platform keyset URL: {$CFG->wwwroot}/mod/lti/certs.php\n";
echo "tool side: course lti register --url $url --moodle {$CFG->wwwroot} --client-id {$saved->clientid}"
    . " --deployment-id $typeid\n";
echo "== Errors: " . count($errors) . " ==\n";
foreach ($errors as $message) {
    echo "  error: $message\n";
}
exit($errors ? 1 : 0);
