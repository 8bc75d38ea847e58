/* imzala-http-system-trust.h: the system trust store of the HTTP module,
 * loaded once per process and shared by every TLS connection. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define IMZALA_TYPE_HTTP_SYSTEM_TRUST (imzala_http_system_trust_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaHttpSystemTrust, imzala_http_system_trust, IMZALA, HTTP_SYSTEM_TRUST,
                      GTlsDatabase)

/* The process's one instance (a new reference), made on first use, which
 * also becomes the TLS backend's default database (g_tls_backend_set_
 * default_database()); the store itself is parsed on the first
 * verification. */
GTlsDatabase *imzala_http_system_trust_dup_default    (void);
/* A session's database: @extra first (chain and host name), then the
 * system store. */
GTlsDatabase *imzala_http_system_trust_new_with_extra (GTlsDatabase *extra);

G_END_DECLS
