/* test-doctor.c: ImzalaDoctor's report from facts made by hand (no card, no
 * pcscd, no network): the masking of names and T.C. kimlik numbers, the
 * advice chosen for each problem, and the JSON form. */
#define G_LOG_DOMAIN "test-doctor"

#include "config.h"

#include <json-glib/json-glib.h>

#include "imzala-test.h"

/* A valid T.C. kimlik no (check digits right), as on the test cards. */
#define TCKN "12345678950"

static GDateTime *
utc (int year, int month, int day)
{
  return g_date_time_new_utc (year, month, day, 12, 0, 0);
}

static ImzalaDoctorCertificateFacts *
certificate_facts (const char *holder,
                   const char *tckn,
                   gboolean    usable,
                   gboolean    expired)
{
  ImzalaDoctorCertificateFacts *facts = imzala_doctor_certificate_facts_new ();

  facts->holder = g_strdup (holder);
  facts->tckn = g_strdup (tckn);
  facts->issuer = g_strdup ("Test NES SM");
  facts->key = g_strdup ("RSA 2048");
  facts->not_before = utc (2020, 1, 1);
  facts->not_after = expired ? utc (2022, 1, 1) : utc (2030, 1, 1);
  facts->qualified = TRUE;
  facts->has_private_key = TRUE;
  facts->usable = usable;
  facts->expired = expired;
  if (expired)
    {
      facts->problems = g_new0 (char *, 2);
      facts->problems[0] = g_strdup ("Expired on 1 January 2022.");
    }
  return facts;
}

/* A doctor with fixed versions and time, so the report does not depend on
 * the machine. */
static ImzalaDoctor *
doctor_new (void)
{
  ImzalaDoctor *doctor = imzala_doctor_new ();
  g_autoptr(GDateTime) now = utc (2026, 11, 26);

  imzala_doctor_set_now (doctor, now);
  imzala_doctor_set_os (doctor, "Debian GNU/Linux 12 (bookworm)");
  return doctor;
}

static void
add_module (ImzalaDoctor *doctor,
            const char   *name,
            gboolean      unmanaged,
            const char   *load_error)
{
  ImzalaDoctorModuleFacts *module = imzala_doctor_module_facts_new ();

  module->name = g_strdup (name);
  module->path = g_strdup_printf ("/usr/lib/%s.so", name);
  if (load_error != NULL)
    module->load_error = g_strdup (load_error);
  else
    {
      module->description = g_strdup ("Test module");
      module->manufacturer = g_strdup ("Test");
      module->version = g_strdup ("1.2");
      module->unmanaged = unmanaged;
    }
  imzala_doctor_take_module (doctor, module);
}

static void
add_reader (ImzalaDoctor *doctor,
            const char   *name,
            const char   *atr,
            const char   *token_label)
{
  ImzalaDoctorReaderFacts *reader = imzala_doctor_reader_facts_new ();

  reader->name = g_strdup (name);
  reader->atr = g_strdup (atr);
  reader->has_card = atr != NULL;
  reader->state_text = g_strdup (atr != NULL ? "Card present" : "No card");
  reader->token_label = g_strdup (token_label);
  imzala_doctor_take_reader (doctor, reader);
}

/* An AKİS-like card: its label names the holder's T.C. kimlik no. */
static void
add_token (ImzalaDoctor *doctor,
           gboolean      expired)
{
  ImzalaDoctorTokenFacts *token = imzala_doctor_token_facts_new ();

  token->label = g_strdup (TCKN "NES0");
  token->manufacturer = g_strdup ("TUBITAK");
  token->model = g_strdup ("AKIS v2.5.2");
  token->serial = g_strdup ("0A1B2C3D");
  token->slot_description = g_strdup ("ACS ACR38U 00 00");
  token->module = g_strdup ("akisp11");
  token->min_pin_length = 6;
  token->max_pin_length = 8;
  g_ptr_array_add (token->certificates, certificate_facts ("AYŞE YILMAZ", TCKN, !expired, expired));
  imzala_doctor_take_token (doctor, token);
}

static void
assert_no_secret (const char *report)
{
  g_assert_null (strstr (report, TCKN));
  g_assert_null (strstr (report, "AYŞE"));
  g_assert_null (strstr (report, "YILMAZ"));
  g_assert_null (strstr (report, "123456\n"));
}

static void
test_masking (void)
{
  g_autofree char *name = imzala_doctor_mask_name ("AYŞE  YILMAZ");
  g_autofree char *single = imzala_doctor_mask_name ("Ş");
  g_autofree char *tckn = imzala_doctor_mask_tckn (TCKN);
  g_autofree char *text = imzala_doctor_mask_text ("label " TCKN "NES0, serial 123456789012, id 12345678951");

  g_assert_cmpstr (name, ==, "AY*** YI***");
  g_assert_cmpstr (single, ==, "Ş***");
  g_assert_cmpstr (tckn, ==, "*******8950");
  /* Twelve digits are no T.C. kimlik no, nor eleven with a wrong check digit. */
  g_assert_cmpstr (text, ==, "label *******8950NES0, serial 123456789012, id 12345678951");
}

static void
test_healthy (void)
{
  g_autoptr(ImzalaDoctor) doctor = doctor_new ();
  g_autoptr(GDateTime) portal_time = utc (2026, 11, 26);
  g_autoptr(GDateTime) local_time = g_date_time_add_seconds (portal_time, 90);
  g_autofree char *report = NULL;

  imzala_doctor_set_version (doctor, "GTK", "4.8.3");
  imzala_doctor_set_pcsc (doctor, IMZALA_DOCTOR_PCSC_RUNNING, NULL);
  add_module (doctor, "akisp11", TRUE, NULL);
  add_token (doctor, FALSE);
  add_reader (doctor, "ACS ACR38U 00 00", "3B9F968131FE45", TCKN "NES0");
  imzala_doctor_set_portal (doctor, "https://portal.example", portal_time, local_time, NULL);

  g_assert_cmpuint (imzala_doctor_count_problems (doctor), ==, 0);
  report = imzala_doctor_render_text (doctor);
  g_test_message ("%s", report);
  assert_no_secret (report);

  g_assert_nonnull (strstr (report, "Made on 2026-11-26 12:00:00 UTC."));
  g_assert_nonnull (strstr (report, "Operating system: Debian GNU/Linux 12 (bookworm)\n"));
  g_assert_nonnull (strstr (report, "GTK: 4.8.3\n"));
  g_assert_nonnull (strstr (report, "OpenSSL: 3."));
  g_assert_nonnull (strstr (report, "pcsc-lite: "));
  g_assert_nonnull (strstr (report, "p11-kit: "));
  g_assert_nonnull (strstr (report, "\nRunning.\n"));
  g_assert_nonnull (strstr (report, "ACS ACR38U 00 00\n  State: Card present\n  ATR:   3B9F968131FE45\n"
                                    "  Card:  *******8950NES0\n"));
  g_assert_nonnull (strstr (report, "  Loaded:  unmanaged"));
  g_assert_nonnull (strstr (report, "  Certificate: AY*** YI***\n    T.C. kimlik no:   *******8950\n"));
  g_assert_nonnull (strstr (report, "    Usable to sign:   yes\n"));
  g_assert_nonnull (strstr (report, "Difference:      +90 s\n"));
  g_assert_nonnull (strstr (report, "No problem found.\n"));
}

/* What cards, readers and modules say of themselves goes into the report as
 * one line each: a reader's name, a card's label and a module's
 * description with a line feed (and an escape sequence, a carriage return,
 * a right-to-left override) show them as escapes, and no line of the
 * report starts with what follows them (before: "No problem found." in a
 * label made a line of its own). */
static void
test_one_line_each (void)
{
  g_autoptr(ImzalaDoctor) doctor = doctor_new ();
  ImzalaDoctorModuleFacts *module = imzala_doctor_module_facts_new ();
  ImzalaDoctorTokenFacts *token = imzala_doctor_token_facts_new ();
  g_autofree char *report = NULL;
  g_auto(GStrv) lines = NULL;

  module->name = g_strdup ("kart");
  module->description = g_strdup ("Kart\nNo problem found.");
  module->manufacturer = g_strdup ("Test");
  module->version = g_strdup ("1.0");
  imzala_doctor_take_module (doctor, module);
  token->label = g_strdup ("KART\x1b[2K\r\nNo problem found.");
  token->manufacturer = g_strdup ("Test");
  token->model = g_strdup ("Model\u202e");
  token->serial = g_strdup ("1");
  token->slot_description = g_strdup ("Okuyucu");
  token->module = g_strdup ("kart");
  imzala_doctor_take_token (doctor, token);
  add_reader (doctor, "Okuyucu\nNo problem found.", "3B00", "KART");

  /* pcscd not asked, and more: the report's own line says there are
   * problems, so no line may say there are none. */
  g_assert_cmpuint (imzala_doctor_count_problems (doctor), >, 0);
  report = imzala_doctor_render_text (doctor);
  g_test_message ("%s", report);
  g_assert_nonnull (strstr (report, "\nKART\\x1b[2K\\x0d\\x0aNo problem found.\n"));
  g_assert_nonnull (strstr (report, "\nOkuyucu\\x0aNo problem found.\n"));
  g_assert_nonnull (strstr (report, "  Library: Kart\\x0aNo problem found. 1.0 (Test)\n"));
  g_assert_nonnull (strstr (report, "  Card:   Test Model\\u202e, serial 1\n"));
  g_assert_null (strchr (report, '\x1b'));
  g_assert_null (strchr (report, '\r'));
  lines = g_strsplit (report, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_false (g_str_has_prefix (lines[i], "No problem found."));
}

static void
test_problems (void)
{
  g_autoptr(ImzalaDoctor) doctor = doctor_new ();
  g_autoptr(GDateTime) portal_time = utc (2026, 11, 26);
  g_autoptr(GDateTime) local_time = g_date_time_add_minutes (portal_time, -12);
  g_autofree char *report = NULL;

  imzala_doctor_set_pcsc (doctor, IMZALA_DOCTOR_PCSC_RUNNING, NULL);
  add_module (doctor, "opensc-pkcs11", FALSE, NULL);
  add_module (doctor, "akisp11", FALSE, "The module could not be loaded.");
  add_token (doctor, TRUE);
  add_reader (doctor, "ACS ACR38U 00 00", "3B9F968131FE45", TCKN "NES0");
  /* A second card that no module turned into a token. */
  add_reader (doctor, "Gemalto PC Twin Reader 01 00", "3BFF9600008131", NULL);
  imzala_doctor_set_portal (doctor, "https://portal.example", portal_time, local_time, NULL);

  report = imzala_doctor_render_text (doctor);
  g_test_message ("%s", report);
  assert_no_secret (report);

  g_assert_nonnull (strstr (report, "  Not loaded: The module could not be loaded.\n"));
  g_assert_nonnull (strstr (report, "  Card:  not recognised by any loaded module\n"));
  g_assert_nonnull (strstr (report, "    Usable to sign:   no\n      - Expired on 1 January 2022.\n"));
  /* Each problem, numbered, with its advice. */
  g_assert_nonnull (strstr (report, "1. The module /usr/lib/akisp11.so could not be loaded"));
  g_assert_nonnull (strstr (report, "2. The card in “Gemalto PC Twin Reader 01 00” was not recognised"));
  g_assert_nonnull (strstr (report, "/usr/lib/libakisp11.so"));
  g_assert_nonnull (strstr (report, "3. The certificate of AY*** YI*** on the card “*******8950NES0” expired on 2022-01-01"));
  g_assert_nonnull (strstr (report, "4. No certificate on the card “*******8950NES0” can be used for signing."));
  g_assert_nonnull (strstr (report, "5. This computer’s clock is 12 minutes behind the portal’s.\n"
                                    "   → Set the clock right"));
  g_assert_cmpuint (imzala_doctor_count_problems (doctor), ==, 5);
}

static void
test_nothing (void)
{
  g_autoptr(ImzalaDoctor) doctor = doctor_new ();
  g_autofree char *report = NULL;

  imzala_doctor_set_pcsc (doctor, IMZALA_DOCTOR_PCSC_NOT_RUNNING,
                          "The smart card service (pcscd) is not running.");
  imzala_doctor_set_modules_error (doctor, "No PKCS#11 module could be loaded.");
  imzala_doctor_set_portal (doctor, "https://portal.example", NULL, NULL,
                            "The portal at portal.example cannot be reached.");

  report = imzala_doctor_render_text (doctor);
  g_test_message ("%s", report);
  g_assert_nonnull (strstr (report, "Not running: The smart card service (pcscd) is not running.\n"));
  g_assert_nonnull (strstr (report, "1. The smart card service (pcscd) is not running"));
  g_assert_nonnull (strstr (report, "sudo systemctl start pcscd"));
  g_assert_nonnull (strstr (report, "2. No PKCS#11 module could be loaded.\n"));
  g_assert_nonnull (strstr (report, "opensc-pkcs11"));
  g_assert_nonnull (strstr (report, "3. The portal at portal.example cannot be reached.\n"));
  g_assert_cmpuint (imzala_doctor_count_problems (doctor), ==, 3);
}

static void
test_no_card (void)
{
  g_autoptr(ImzalaDoctor) doctor = doctor_new ();
  g_autofree char *report = NULL;

  imzala_doctor_set_pcsc (doctor, IMZALA_DOCTOR_PCSC_RUNNING, NULL);
  add_module (doctor, "opensc-pkcs11", FALSE, NULL);
  add_reader (doctor, "ACS ACR38U 00 00", NULL, NULL);

  report = imzala_doctor_render_text (doctor);
  g_assert_nonnull (strstr (report, "1. No card was found.\n   → Insert the card"));
  g_assert_cmpuint (imzala_doctor_count_problems (doctor), ==, 1);
}

static void
test_json (void)
{
  g_autoptr(ImzalaDoctor) doctor = doctor_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  JsonObject *root;
  JsonObject *token;
  JsonObject *certificate;

  imzala_doctor_set_pcsc (doctor, IMZALA_DOCTOR_PCSC_NOT_RUNNING, "pcscd is not running.");
  add_module (doctor, "akisp11", TRUE, NULL);
  add_token (doctor, TRUE);

  json = imzala_doctor_render_json (doctor);
  g_test_message ("%s", json);
  assert_no_secret (json);
  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));

  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (root, "pcscd"), "state"),
                   ==, "not-running");
  g_assert_nonnull (json_object_get_string_member (json_object_get_object_member (root, "versions"), "OpenSSL"));
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (json_object_get_array_member (root, "modules"), 0),
                                                  "loaded_by"), ==, "unmanaged");
  token = json_array_get_object_element (json_object_get_array_member (root, "tokens"), 0);
  g_assert_cmpstr (json_object_get_string_member (token, "label"), ==, "*******8950NES0");
  certificate = json_array_get_object_element (json_object_get_array_member (token, "certificates"), 0);
  g_assert_cmpstr (json_object_get_string_member (certificate, "holder"), ==, "AY*** YI***");
  g_assert_cmpstr (json_object_get_string_member (certificate, "tckn"), ==, "*******8950");
  g_assert_false (json_object_get_boolean_member (certificate, "usable"));
  g_assert_true (json_object_get_boolean_member (certificate, "expired"));
  g_assert_true (json_object_get_null_member (root, "portal"));
  /* pcscd, the expired certificate, no usable certificate. */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "problems")), ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/doctor/masking", test_masking);
  g_test_add_func ("/doctor/healthy", test_healthy);
  g_test_add_func ("/doctor/problems", test_problems);
  g_test_add_func ("/doctor/one-line-each", test_one_line_each);
  g_test_add_func ("/doctor/nothing", test_nothing);
  g_test_add_func ("/doctor/no-card", test_no_card);
  g_test_add_func ("/doctor/json", test_json);

  return g_test_run ();
}
