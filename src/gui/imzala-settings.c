#define G_LOG_DOMAIN "imzala-settings"

#include "config.h"

#include "imzala-settings.h"

struct _ImzalaSettings
{
  GObject     parent_instance;

  GSettings  *settings;
  GHashTable *confirmed_origins;  /* lower case; consent for this session only */
};

G_DEFINE_FINAL_TYPE (ImzalaSettings, imzala_settings, G_TYPE_OBJECT)

char *
imzala_settings_origin_for_url (const char  *url,
                                char       **host_out)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;
  const char *host;
  int port;

  if (url == NULL)
    return NULL;
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    return NULL;

  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  port = g_uri_get_port (uri);

  if (port == -1 || (g_ascii_strcasecmp (scheme, "https") == 0 && port == 443))
    {
      if (host_out != NULL)
        *host_out = g_ascii_strdown (host, -1);
      return g_strdup_printf ("%s://%s", scheme, host);
    }
  if (host_out != NULL)
    *host_out = g_strdup_printf ("%s:%d", host, port);
  return g_strdup_printf ("%s://%s:%d", scheme, host, port);
}

gboolean
imzala_settings_is_allowed (ImzalaSettings *self,
                            const char     *origin)
{
  g_auto(GStrv) allowed = NULL;
  g_autofree char *lower = NULL;

  g_return_val_if_fail (IMZALA_IS_SETTINGS (self), FALSE);

  if (origin == NULL)
    return FALSE;
  lower = g_ascii_strdown (origin, -1);
  if (g_hash_table_contains (self->confirmed_origins, lower))
    return TRUE;
  if (self->settings == NULL)
    return FALSE;

  /* The list is read each time: another instance or dconf-editor may have
   * changed it. Entries are compared in their normalised form, so that
   * "https://Portal.example.org:443/" matches "https://portal.example.org". */
  allowed = g_settings_get_strv (self->settings, "allowed-portals");
  for (guint i = 0; allowed[i] != NULL; i++)
    {
      g_autofree char *entry = imzala_settings_origin_for_url (allowed[i], NULL);
      g_autofree char *entry_lower = entry ? g_ascii_strdown (entry, -1) : NULL;

      if (entry_lower != NULL && g_str_equal (entry_lower, lower))
        return TRUE;
    }
  return FALSE;
}

void
imzala_settings_allow (ImzalaSettings *self,
                       const char     *origin,
                       gboolean        remember)
{
  g_return_if_fail (IMZALA_IS_SETTINGS (self));
  g_return_if_fail (origin != NULL);

  g_hash_table_add (self->confirmed_origins, g_ascii_strdown (origin, -1));
  if (remember && self->settings != NULL)
    {
      g_auto(GStrv) allowed = g_settings_get_strv (self->settings, "allowed-portals");
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      g_auto(GStrv) updated = NULL;

      g_strv_builder_addv (builder, (const char **) allowed);
      g_strv_builder_add (builder, origin);
      updated = g_strv_builder_end (builder);
      g_settings_set_strv (self->settings, "allowed-portals", (const char * const *) updated);
    }
}

char *
imzala_settings_dup_ca_file (ImzalaSettings *self,
                             const char     *origin)
{
  g_autoptr(GVariant) files = NULL;
  char *path = NULL;

  g_return_val_if_fail (IMZALA_IS_SETTINGS (self), NULL);

  if (self->settings == NULL || origin == NULL)
    return NULL;
  files = g_settings_get_value (self->settings, "portal-ca-files");
  if (!g_variant_lookup (files, origin, "s", &path))
    return NULL;
  return path;
}

char *
imzala_settings_dup_default_portal (ImzalaSettings *self)
{
  g_auto(GStrv) allowed = NULL;

  g_return_val_if_fail (IMZALA_IS_SETTINGS (self), NULL);

  if (self->settings == NULL)
    return NULL;
  allowed = g_settings_get_strv (self->settings, "allowed-portals");
  return g_strdup (allowed[0]);
}

GSettings *
imzala_settings_get_settings (ImzalaSettings *self)
{
  g_return_val_if_fail (IMZALA_IS_SETTINGS (self), NULL);

  return self->settings;
}

static void
imzala_settings_finalize (GObject *object)
{
  ImzalaSettings *self = IMZALA_SETTINGS (object);

  g_clear_object (&self->settings);
  g_clear_pointer (&self->confirmed_origins, g_hash_table_unref);

  G_OBJECT_CLASS (imzala_settings_parent_class)->finalize (object);
}

static void
imzala_settings_class_init (ImzalaSettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = imzala_settings_finalize;
}

static void
imzala_settings_init (ImzalaSettings *self)
{
  self->confirmed_origins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

ImzalaSettings *
imzala_settings_new (GSettings *settings)
{
  ImzalaSettings *self;

  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  self = g_object_new (IMZALA_TYPE_SETTINGS, NULL);
  if (settings != NULL)
    self->settings = g_object_ref (settings);
  return self;
}
