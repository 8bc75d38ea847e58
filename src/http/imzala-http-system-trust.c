/* imzala-http-system-trust.c: the system trust store, loaded once per
 * process and shared by every TLS connection of the HTTP module.
 *
 * Why a class of our own: glib-networking 2.74's GnuTLS backend gives every
 * TLS connection whose database is one of its own (the default database,
 * or a GTlsFileDatabase) a fresh GnuTLS trust list built from that
 * database's source (g_tls_database_gnutls_get_credentials() calls the
 * class's populate_trust_list() each time), so each connection parsed the
 * whole /etc/ssl/certs/ca-certificates.crt again, about 140 certificates,
 * on top of the parse that made the default database itself: three parses
 * for one `imzala-cli portal` (issue 12). That trust list is only GnuTLS's;
 * glib-networking verifies the peer through the connection's GTlsDatabase
 * (g_tls_database_verify_chain() in its verify callback), and a database
 * that is not one of its own classes gets plain credentials without a trust
 * list. So this database delegates every lookup and every verification to
 * the backend's default database, which parses the store once, and this
 * database is the process's default one, so connections stop parsing it (see
 * make_default()); a session with an extra CA (a private portal) asks that
 * CA first and then never needs the store at all.
 *
 * Nothing is verified less: verify_chain() is the default database's
 * own, with the same purpose, identity and flags, and its result is passed
 * on unchanged.
 */
#define G_LOG_DOMAIN "imzala-http"

#include "config.h"

#include "imzala-http-system-trust.h"

struct _ImzalaHttpSystemTrust
{
  GTlsDatabase  parent_instance;

  /* A session's extra CA (imzala_http_system_trust_new_with_extra()), or
   * NULL for the process's default instance. */
  GTlsDatabase *extra;
};

G_DEFINE_FINAL_TYPE (ImzalaHttpSystemTrust, imzala_http_system_trust, G_TYPE_TLS_DATABASE)

static gpointer
load_system (gpointer data)
{
  GTlsBackend *backend = g_tls_backend_get_default ();
  GTlsBackendInterface *iface = G_TLS_BACKEND_GET_INTERFACE (backend);
  GTlsDatabase *system = NULL;

  /* The backend's own default database, asked of the backend itself:
   * g_tls_backend_get_default_database() now gives this class (see
   * make_default()). */
  if (iface->get_default_database != NULL)
    system = iface->get_default_database (backend);
  if (system == NULL)
    g_debug ("The TLS backend has no system trust store");
  return system;
}

/* The backend's default database, made (and the store parsed) on the first
 * verification, not when a session is made: a process that only fetches
 * plain-HTTP OCSP or CRL URLs never parses it. Kept for good. */
static GTlsDatabase *
get_system (GError **error)
{
  static GOnce once = G_ONCE_INIT;
  GTlsDatabase *system = g_once (&once, load_system, NULL);

  if (system == NULL)
    g_set_error_literal (error, G_TLS_ERROR, G_TLS_ERROR_UNAVAILABLE,
                         "The TLS backend has no system trust store");
  return system;
}

static GTlsCertificateFlags
imzala_http_system_trust_verify_chain (GTlsDatabase             *database,
                                       GTlsCertificate          *chain,
                                       const char               *purpose,
                                       GSocketConnectable       *identity,
                                       GTlsInteraction          *interaction,
                                       GTlsDatabaseVerifyFlags   flags,
                                       GCancellable             *cancellable,
                                       GError                  **error)
{
  ImzalaHttpSystemTrust *self = IMZALA_HTTP_SYSTEM_TRUST (database);
  GTlsDatabase *system;

  /* A session with an extra CA (the portal's own, from --portal-ca) asks
   * it first: a chain that verifies to it, host name included, is accepted
   * without the system store, which is then never parsed (the bench's
   * portal and every private portal). Otherwise the system store decides,
   * as for any session. The set of chains accepted is the same as with the
   * store first and the extra CA after it. */
  if (self->extra != NULL)
    {
      g_autoptr(GError) extra_error = NULL;
      GTlsCertificateFlags extra_flags;

      extra_flags = g_tls_database_verify_chain (self->extra, chain, purpose, identity, interaction,
                                                 flags, cancellable, &extra_error);
      if (extra_error == NULL && extra_flags == 0)
        return 0;
    }

  system = get_system (error);
  if (system == NULL)
    return G_TLS_CERTIFICATE_GENERIC_ERROR;
  return g_tls_database_verify_chain (system, chain, purpose, identity, interaction, flags,
                                      cancellable, error);
}

static char *
imzala_http_system_trust_create_certificate_handle (GTlsDatabase    *database,
                                                    GTlsCertificate *certificate)
{
  GTlsDatabase *system = get_system (NULL);

  return system != NULL ? g_tls_database_create_certificate_handle (system, certificate) : NULL;
}

static GTlsCertificate *
imzala_http_system_trust_lookup_certificate_for_handle (GTlsDatabase             *database,
                                                        const char               *handle,
                                                        GTlsInteraction          *interaction,
                                                        GTlsDatabaseLookupFlags   flags,
                                                        GCancellable             *cancellable,
                                                        GError                  **error)
{
  GTlsDatabase *system = get_system (error);

  if (system == NULL)
    return NULL;
  return g_tls_database_lookup_certificate_for_handle (system, handle, interaction, flags,
                                                       cancellable, error);
}

static GTlsCertificate *
imzala_http_system_trust_lookup_certificate_issuer (GTlsDatabase             *database,
                                                    GTlsCertificate          *certificate,
                                                    GTlsInteraction          *interaction,
                                                    GTlsDatabaseLookupFlags   flags,
                                                    GCancellable             *cancellable,
                                                    GError                  **error)
{
  GTlsDatabase *system = get_system (error);

  if (system == NULL)
    return NULL;
  return g_tls_database_lookup_certificate_issuer (system, certificate, interaction, flags,
                                                   cancellable, error);
}

static GList *
imzala_http_system_trust_lookup_certificates_issued_by (GTlsDatabase             *database,
                                                        GByteArray               *issuer_raw_dn,
                                                        GTlsInteraction          *interaction,
                                                        GTlsDatabaseLookupFlags   flags,
                                                        GCancellable             *cancellable,
                                                        GError                  **error)
{
  GTlsDatabase *system = get_system (error);

  if (system == NULL)
    return NULL;
  return g_tls_database_lookup_certificates_issued_by (system, issuer_raw_dn, interaction,
                                                       flags, cancellable, error);
}

static void
imzala_http_system_trust_finalize (GObject *object)
{
  ImzalaHttpSystemTrust *self = IMZALA_HTTP_SYSTEM_TRUST (object);

  g_clear_object (&self->extra);

  G_OBJECT_CLASS (imzala_http_system_trust_parent_class)->finalize (object);
}

static void
imzala_http_system_trust_class_init (ImzalaHttpSystemTrustClass *klass)
{
  GTlsDatabaseClass *database_class = G_TLS_DATABASE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = imzala_http_system_trust_finalize;
  /* The async variants are GTlsDatabase's own: they run these in a
   * thread, and the default database is safe to use from any thread. */
  database_class->verify_chain = imzala_http_system_trust_verify_chain;
  database_class->create_certificate_handle = imzala_http_system_trust_create_certificate_handle;
  database_class->lookup_certificate_for_handle = imzala_http_system_trust_lookup_certificate_for_handle;
  database_class->lookup_certificate_issuer = imzala_http_system_trust_lookup_certificate_issuer;
  database_class->lookup_certificates_issued_by = imzala_http_system_trust_lookup_certificates_issued_by;
}

static void
imzala_http_system_trust_init (ImzalaHttpSystemTrust *self)
{
}

/* libsoup 3.2 makes each TLS connection first (g_initable_new() without a
 * database, so glib-networking builds the connection's GnuTLS credentials
 * from the process's default database) and only then sets the session's
 * "tls-database" on it. So the session's property alone does not spare the
 * parse: this instance also becomes the process's default database. What
 * other code of the process verifies with the default database is verified
 * exactly as before, by the same database behind this one.
 *
 * (Made the default, it changed which small heap blocks the TLS threads
 * get, and GnuTLS's thread-local block then often fell at a page offset of
 * 16, where GCC 12's LeakSanitizer misreads it and its tracer crashes at
 * exit: a sanitizer defect, worked around for the sanitizer build in
 * src/core/imzala-http-session.c, __asan_default_options().) */
static gpointer
make_default (gpointer data)
{
  ImzalaHttpSystemTrust *self = g_object_new (IMZALA_TYPE_HTTP_SYSTEM_TRUST, NULL);

  g_tls_backend_set_default_database (g_tls_backend_get_default (), G_TLS_DATABASE (self));
  return self;
}

GTlsDatabase *
imzala_http_system_trust_dup_default (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_object_ref (G_TLS_DATABASE (g_once (&once, make_default, NULL)));
}

GTlsDatabase *
imzala_http_system_trust_new_with_extra (GTlsDatabase *extra)
{
  ImzalaHttpSystemTrust *self;

  g_return_val_if_fail (G_IS_TLS_DATABASE (extra), NULL);

  /* The process's default is set up first, so that connections get no
   * trust list of their own (see make_default()). */
  g_object_unref (imzala_http_system_trust_dup_default ());
  self = g_object_new (IMZALA_TYPE_HTTP_SYSTEM_TRUST, NULL);
  self->extra = g_object_ref (extra);
  return G_TLS_DATABASE (self);
}
