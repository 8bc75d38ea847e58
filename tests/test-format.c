/* test-format.c: what the pages write the same way, without a display: the
 * name the save dialog proposes for a signature (in English and Turkish,
 * ASCII, with the local date, never the code) and the PIN's length rule
 * (said only for a range a card can mean). */
#define G_LOG_DOMAIN "test-format"

#include "config.h"

#include <locale.h>

#include <glib/gi18n.h>

#include "imzala-format.h"

static gboolean
is_plain_ascii (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

static void
test_file_name_english (void)
{
  g_autoptr(GDateTime) time = g_date_time_new_local (2026, 11, 26, 10, 30, 0);
  g_autofree char *login = imzala_format_signature_file_name (IMZALA_PURPOSE_LOGIN, time);
  g_autofree char *consent = imzala_format_signature_file_name (IMZALA_PURPOSE_CONSENT, time);
  g_autofree char *application = imzala_format_signature_file_name (IMZALA_PURPOSE_APPLICATION, time);

  g_assert_cmpstr (login, ==, "Signed-Login-2026-11-26.p7s");
  g_assert_cmpstr (consent, ==, "E-Consent-2026-11-26.p7s");
  g_assert_cmpstr (application, ==, "Application-2026-11-26.p7s");
}

/* The date is the user's: a signature made at 23:30 local time is saved
 * under that day, whatever the UTC date is. */
static void
test_file_name_local_date (void)
{
  g_autoptr(GTimeZone) zone = g_time_zone_new_identifier ("+03:00");
  g_autoptr(GDateTime) utc = g_date_time_new_utc (2026, 11, 26, 22, 30, 0);
  g_autoptr(GDateTime) local = g_date_time_to_local (utc);
  g_autofree char *name = imzala_format_signature_file_name (IMZALA_PURPOSE_LOGIN, utc);
  g_autofree char *expected = g_date_time_format (local, "Signed-Login-%Y-%m-%d.p7s");

  g_assert_nonnull (zone);
  g_assert_cmpstr (name, ==, expected);
}

static void
test_file_name_turkish (void)
{
  g_autoptr(GDateTime) time = g_date_time_new_local (2026, 11, 26, 10, 30, 0);
  g_autofree char *login = NULL;
  g_autofree char *consent = NULL;
  g_autofree char *application = NULL;
  g_autofree char *unblock = NULL;

  if (setlocale (LC_ALL, "tr_TR.UTF-8") == NULL)
    {
      /* tools/install-deps generates the locale; without it gettext
       * ignores LANGUAGE and the test would prove nothing. */
      g_test_fail_printf ("The tr_TR.UTF-8 locale is missing (tools/install-deps makes it).");
      return;
    }
  g_setenv ("LANGUAGE", "tr", TRUE);

  login = imzala_format_signature_file_name (IMZALA_PURPOSE_LOGIN, time);
  consent = imzala_format_signature_file_name (IMZALA_PURPOSE_CONSENT, time);
  application = imzala_format_signature_file_name (IMZALA_PURPOSE_APPLICATION, time);
  unblock = imzala_format_signature_file_name (IMZALA_PURPOSE_UNBLOCK, time);

  setlocale (LC_ALL, "C.UTF-8");
  g_setenv ("LANGUAGE", "en", TRUE);

  g_assert_cmpstr (login, ==, "E-imzali-Giris-2026-11-26.p7s");
  g_assert_cmpstr (consent, ==, "E-Onay-2026-11-26.p7s");
  g_assert_cmpstr (application, ==, "Basvuru-2026-11-26.p7s");
  g_assert_true (is_plain_ascii (unblock));
  g_assert_true (g_str_has_suffix (unblock, "-2026-11-26.p7s"));
}

static void
test_pin_length (void)
{
  static const struct { guint min; guint max; const char *text; } cases[] = {
    { 6, 8, "6–8 characters" },
    { 4, 16, "4–16 characters" },
    { 6, 6, "6 characters" },
    { 1, 1, "1 character" },
    /* What a module says when it has no rule, or a wrong one. */
    { 4, 255, NULL },
    { 0, 0, NULL },
    { 0, 8, NULL },
    { 9, 3, NULL },
    { 4, 33, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = imzala_format_pin_length_range (cases[i].min, cases[i].max);

      g_test_message ("%u-%u: %s", cases[i].min, cases[i].max, text ? text : "(nothing)");
      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

int
main (int argc, char *argv[])
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("IMZALA_LOCALEDIR") ? g_getenv ("IMZALA_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/format/file-name/english", test_file_name_english);
  g_test_add_func ("/format/file-name/local-date", test_file_name_local_date);
  g_test_add_func ("/format/file-name/turkish", test_file_name_turkish);
  g_test_add_func ("/format/pin-length", test_pin_length);

  return g_test_run ();
}
