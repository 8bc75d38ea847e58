/* imzala-settings.h: which portals İmzala talks to, over GSettings.
 *
 * Sending a code to a portal is a security decision: an origin
 * ("https://host[:port]") is allowed when it is in "allowed-portals" or the
 * user agreed to it in this session. The object also knows the extra CA
 * file a portal's HTTPS certificate is checked against ("portal-ca-files")
 * and the portal to offer when none is named. It is no widget, so that the
 * decision is tested without a display (tests/test-settings.c).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define IMZALA_TYPE_SETTINGS (imzala_settings_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaSettings, imzala_settings, IMZALA, SETTINGS, GObject)

/* @settings: the İmzala schema, or NULL for a policy that allows only what
 * the user agrees to in this session and remembers nothing. */
ImzalaSettings *imzala_settings_new                 (GSettings      *settings);
GSettings      *imzala_settings_get_settings        (ImzalaSettings *self);

/* "https://host[:port]" with the port only when it is not the default, the
 * form the allow-list holds; @host_out (nullable) gets "host[:port]" as the
 * header bar shows it. NULL for a URL that cannot be parsed. */
char           *imzala_settings_origin_for_url      (const char     *url,
                                                     char          **host_out);
/* Whether @origin may be sent a code without asking (case ignored). */
gboolean        imzala_settings_is_allowed          (ImzalaSettings *self,
                                                     const char     *origin);
/* The user agreed to @origin: for this session, and with @remember also in
 * "allowed-portals". */
void            imzala_settings_allow               (ImzalaSettings *self,
                                                     const char     *origin,
                                                     gboolean        remember);
/* The CA file for @origin from "portal-ca-files", or NULL. */
char           *imzala_settings_dup_ca_file         (ImzalaSettings *self,
                                                     const char     *origin);
/* The first allowed portal, the one to use when none is named, or NULL. */
char           *imzala_settings_dup_default_portal  (ImzalaSettings *self);

G_END_DECLS
