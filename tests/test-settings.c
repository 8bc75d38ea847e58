/* test-settings.c: the portal allow-list (ImzalaSettings) over GSettings in
 * memory, without a display: which origins get a code without asking, what
 * the user's consent does, and the CA file of a portal. */
#define G_LOG_DOMAIN "test-settings"

#include "config.h"

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "imzala-application.h"
#include "imzala-settings.h"

static GSettings *
new_gsettings (void)
{
  g_autoptr(GSettingsBackend) backend = g_memory_settings_backend_new ();

  return g_settings_new_with_backend (IMZALA_SETTINGS_SCHEMA, backend);
}

static void
test_origin_for_url (void)
{
  static const struct { const char *url; const char *origin; const char *host; } cases[] = {
    { "https://portal.example.org", "https://portal.example.org", "portal.example.org" },
    { "https://Portal.Example.org/path?x=1", "https://Portal.Example.org", "portal.example.org" },
    { "https://portal.example.org:443/", "https://portal.example.org", "portal.example.org" },
    { "https://localhost:8443", "https://localhost:8443", "localhost:8443" },
    { "http://localhost:8443", "http://localhost:8443", "localhost:8443" },
    { "http://portal.example.org", "http://portal.example.org", "portal.example.org" },
    { "portal.example.org", NULL, NULL },
    { "https://", NULL, NULL },
    { "", NULL, NULL },
  };

  g_assert_null (imzala_settings_origin_for_url (NULL, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *host = NULL;
      g_autofree char *origin = imzala_settings_origin_for_url (cases[i].url, &host);

      g_test_message ("%s", cases[i].url);
      g_assert_cmpstr (origin, ==, cases[i].origin);
      g_assert_cmpstr (host, ==, cases[i].host);
    }
}

static void
test_allow_list (void)
{
  g_autoptr(GSettings) gsettings = new_gsettings ();
  g_autoptr(ImzalaSettings) settings = imzala_settings_new (gsettings);
  const char *allowed[] = { "https://Portal.example.org:443/giris", "https://localhost:8443", "not a url", NULL };
  g_autofree char *first = NULL;

  g_assert_true (imzala_settings_get_settings (settings) == gsettings);
  g_assert_null (imzala_settings_dup_default_portal (settings));
  g_assert_false (imzala_settings_is_allowed (settings, "https://portal.example.org"));

  g_settings_set_strv (gsettings, "allowed-portals", allowed);
  /* Entries are compared in their normal form, case ignored. */
  g_assert_true (imzala_settings_is_allowed (settings, "https://portal.example.org"));
  g_assert_true (imzala_settings_is_allowed (settings, "HTTPS://PORTAL.EXAMPLE.ORG"));
  g_assert_true (imzala_settings_is_allowed (settings, "https://localhost:8443"));
  /* Another port, scheme or host is another portal. */
  g_assert_false (imzala_settings_is_allowed (settings, "https://localhost:9443"));
  g_assert_false (imzala_settings_is_allowed (settings, "http://localhost:8443"));
  g_assert_false (imzala_settings_is_allowed (settings, "https://portal.example.org.evil.example"));
  g_assert_false (imzala_settings_is_allowed (settings, "https://evil.example"));
  g_assert_false (imzala_settings_is_allowed (settings, NULL));

  first = imzala_settings_dup_default_portal (settings);
  g_assert_cmpstr (first, ==, "https://Portal.example.org:443/giris");
}

static void
test_consent (void)
{
  g_autoptr(GSettings) gsettings = new_gsettings ();
  g_autoptr(ImzalaSettings) settings = imzala_settings_new (gsettings);
  g_autoptr(ImzalaSettings) next_session = NULL;
  g_auto(GStrv) stored = NULL;

  /* Consent for this session only: nothing is written. */
  imzala_settings_allow (settings, "https://once.example.org", FALSE);
  g_assert_true (imzala_settings_is_allowed (settings, "https://ONCE.example.org"));
  stored = g_settings_get_strv (gsettings, "allowed-portals");
  g_assert_cmpuint (g_strv_length (stored), ==, 0);
  g_clear_pointer (&stored, g_strfreev);

  /* Remembered: in the allow-list for the next session too. */
  imzala_settings_allow (settings, "https://always.example.org:9443", TRUE);
  stored = g_settings_get_strv (gsettings, "allowed-portals");
  g_assert_cmpuint (g_strv_length (stored), ==, 1);
  g_assert_cmpstr (stored[0], ==, "https://always.example.org:9443");

  next_session = imzala_settings_new (gsettings);
  g_assert_true (imzala_settings_is_allowed (next_session, "https://always.example.org:9443"));
  g_assert_false (imzala_settings_is_allowed (next_session, "https://once.example.org"));
}

/* Without settings nothing is allowed but what the user agrees to now. */
static void
test_no_settings (void)
{
  g_autoptr(ImzalaSettings) settings = imzala_settings_new (NULL);

  g_assert_null (imzala_settings_get_settings (settings));
  g_assert_false (imzala_settings_is_allowed (settings, "https://portal.example.org"));
  g_assert_null (imzala_settings_dup_default_portal (settings));
  g_assert_null (imzala_settings_dup_ca_file (settings, "https://portal.example.org"));
  imzala_settings_allow (settings, "https://portal.example.org", TRUE);
  g_assert_true (imzala_settings_is_allowed (settings, "https://portal.example.org"));
}

static void
test_ca_files (void)
{
  g_autoptr(GSettings) gsettings = new_gsettings ();
  g_autoptr(ImzalaSettings) settings = imzala_settings_new (gsettings);
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("a{ss}"));
  g_autofree char *path = NULL;

  g_assert_null (imzala_settings_dup_ca_file (settings, "https://localhost:8443"));
  g_variant_builder_add (builder, "{ss}", "https://localhost:8443", "/tmp/demo-root-ca.pem");
  g_settings_set_value (gsettings, "portal-ca-files", g_variant_builder_end (builder));

  path = imzala_settings_dup_ca_file (settings, "https://localhost:8443");
  g_assert_cmpstr (path, ==, "/tmp/demo-root-ca.pem");
  g_assert_null (imzala_settings_dup_ca_file (settings, "https://localhost:9443"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/settings/origin-for-url", test_origin_for_url);
  g_test_add_func ("/settings/allow-list", test_allow_list);
  g_test_add_func ("/settings/consent", test_consent);
  g_test_add_func ("/settings/no-settings", test_no_settings);
  g_test_add_func ("/settings/ca-files", test_ca_files);

  return g_test_run ();
}
