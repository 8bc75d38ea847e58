#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "imzala-error.h"
#include "imzala-portal-pki.h"

struct _ImzalaPortalPki
{
  GObject            parent_instance;

  ImzalaPortalCa    *ca;
  ImzalaPortalStore *store;
  char              *dir;
  char              *crl_file;

  X509              *ocsp_cert;
  EVP_PKEY          *ocsp_key;
  X509              *tsa_cert;
  EVP_PKEY          *tsa_key;
};

G_DEFINE_FINAL_TYPE (ImzalaPortalPki, imzala_portal_pki, G_TYPE_OBJECT)

/* Days the OCSP signer's and the TSA's certificates are valid. */
#define SERVICE_DAYS 825

static void
imzala_portal_pki_finalize (GObject *object)
{
  ImzalaPortalPki *self = IMZALA_PORTAL_PKI (object);

  g_clear_object (&self->ca);
  g_clear_object (&self->store);
  g_free (self->dir);
  g_free (self->crl_file);
  X509_free (self->ocsp_cert);
  EVP_PKEY_free (self->ocsp_key);
  X509_free (self->tsa_cert);
  EVP_PKEY_free (self->tsa_key);

  G_OBJECT_CLASS (imzala_portal_pki_parent_class)->finalize (object);
}

static void
imzala_portal_pki_class_init (ImzalaPortalPkiClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_portal_pki_finalize;
}

static void
imzala_portal_pki_init (ImzalaPortalPki *self)
{
}

static gboolean
set_openssl_error (GError **error, const char *what)
{
  unsigned long code = ERR_get_error ();
  char buffer[256] = "";

  if (code != 0)
    ERR_error_string_n (code, buffer, sizeof buffer);
  ERR_clear_error ();
  g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
               "Could not %s: %s", what, buffer[0] ? buffer : "unknown OpenSSL error");
  return FALSE;
}

static GBytes *
bytes_from_der (unsigned char *der, int length)
{
  GBytes *bytes;

  if (length <= 0)
    return NULL;
  bytes = g_bytes_new (der, length);
  OPENSSL_free (der);
  return bytes;
}

/* ---- Keys and certificates in <state>/pki ---- */

static gboolean
write_pem (const char *path, X509 *cert, EVP_PKEY *key, GError **error)
{
  FILE *file;
  int fd;
  gboolean ok;

  /* A private key is the owner's alone from its first byte on. */
  fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, key != NULL ? 0600 : 0644);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not write %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  file = fdopen (fd, "w");
  ok = cert != NULL ? PEM_write_X509 (file, cert) == 1
                    : PEM_write_PrivateKey (file, key, NULL, NULL, 0, NULL, NULL) == 1;
  if (fclose (file) != 0)
    ok = FALSE;
  if (!ok)
    return set_openssl_error (error, "write a PEM file");
  return TRUE;
}

static gboolean
read_pem (const char *path, X509 **cert, EVP_PKEY **key, GError **error)
{
  FILE *file = g_fopen (path, "re");

  if (file == NULL)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not read %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (cert != NULL)
    *cert = PEM_read_X509 (file, NULL, NULL, NULL);
  else
    *key = PEM_read_PrivateKey (file, NULL, NULL, NULL);
  fclose (file);
  if ((cert != NULL && *cert == NULL) || (key != NULL && *key == NULL))
    return set_openssl_error (error, "read a PEM file");
  return TRUE;
}

/* Loads one service's key and certificate, making them when the
 * certificate file is missing (a state directory of an older portal). */
static gboolean
load_or_create_service (ImzalaPortalPki       *self,
                        ImzalaPortalCaService  service,
                        const char            *name,
                        const char            *common_name,
                        X509                 **cert,
                        EVP_PKEY             **key,
                        GError               **error)
{
  g_autofree char *base = g_build_filename (self->dir, name, NULL);
  g_autofree char *cert_file = g_strconcat (base, ".pem", NULL);
  g_autofree char *key_file = g_strconcat (base, ".key", NULL);

  if (g_file_test (cert_file, G_FILE_TEST_EXISTS))
    return read_pem (cert_file, cert, NULL, error) && read_pem (key_file, NULL, key, error);

  *key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  if (*key == NULL)
    return set_openssl_error (error, "generate an EC key");
  *cert = imzala_portal_ca_issue_service (self->ca, *key, service, common_name, SERVICE_DAYS, error);
  if (*cert == NULL)
    return FALSE;
  /* The certificate is written last: its presence means the pair is whole. */
  return write_pem (key_file, NULL, *key, error)
    && imzala_portal_pki_record (self->store, *cert, NULL, error)
    && write_pem (cert_file, *cert, NULL, error);
}

ImzalaPortalPki *
imzala_portal_pki_load_or_create (const char        *state_dir,
                                  ImzalaPortalCa    *ca,
                                  ImzalaPortalStore *store,
                                  GError           **error)
{
  g_autoptr(ImzalaPortalPki) self = g_object_new (IMZALA_TYPE_PORTAL_PKI, NULL);

  self->ca = g_object_ref (ca);
  self->store = g_object_ref (store);
  self->dir = g_build_filename (state_dir, "pki", NULL);
  self->crl_file = g_build_filename (self->dir, "ca.crl", NULL);

  if (g_mkdir_with_parents (self->dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not make %s: %s", self->dir, g_strerror (saved));
      return NULL;
    }
  if (!load_or_create_service (self, IMZALA_PORTAL_CA_SERVICE_OCSP, "ocsp", "İmzala Demo OCSP",
                               &self->ocsp_cert, &self->ocsp_key, error)
      || !load_or_create_service (self, IMZALA_PORTAL_CA_SERVICE_TSA, "tsa", "İmzala Demo Zaman Damgası",
                                  &self->tsa_cert, &self->tsa_key, error))
    return NULL;
  return g_steal_pointer (&self);
}

char *
imzala_portal_pki_serial_hex (const ASN1_INTEGER *serial)
{
  BIGNUM *bn = ASN1_INTEGER_to_BN (serial, NULL);
  char *hex = bn != NULL ? BN_bn2hex (bn) : NULL;
  char *copy = g_strdup (hex);

  OPENSSL_free (hex);
  BN_free (bn);
  return copy;
}

gboolean
imzala_portal_pki_record (ImzalaPortalStore *store,
                          X509              *cert,
                          const char        *tckn,
                          GError           **error)
{
  g_autofree char *serial = imzala_portal_pki_serial_hex (X509_get0_serialNumber (cert));
  g_autoptr(GBytes) der = NULL;
  unsigned char *data = NULL;
  int length = i2d_X509 (cert, &data);
  gint64 not_after = 0;
  struct tm tm;

  der = bytes_from_der (data, length);
  if (der == NULL || serial == NULL)
    return set_openssl_error (error, "encode a certificate");
  if (ASN1_TIME_to_tm (X509_get0_notAfter (cert), &tm) == 1)
    not_after = timegm (&tm);
  return imzala_portal_store_add_certificate (store, serial, tckn, g_get_real_time () / G_USEC_PER_SEC,
                                              not_after, der, error);
}

/* ---- Revocation reasons ---- */

static const char * const reason_names[] = {
  [OCSP_REVOKED_STATUS_UNSPECIFIED] = "unspecified",
  [OCSP_REVOKED_STATUS_KEYCOMPROMISE] = "keyCompromise",
  [OCSP_REVOKED_STATUS_CACOMPROMISE] = "cACompromise",
  [OCSP_REVOKED_STATUS_AFFILIATIONCHANGED] = "affiliationChanged",
  [OCSP_REVOKED_STATUS_SUPERSEDED] = "superseded",
  [OCSP_REVOKED_STATUS_CESSATIONOFOPERATION] = "cessationOfOperation",
  [OCSP_REVOKED_STATUS_CERTIFICATEHOLD] = NULL, /* a hold is not revocation: not offered */
  [OCSP_REVOKED_STATUS_REMOVEFROMCRL] = NULL,
};

int
imzala_portal_pki_reason_from_name (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (reason_names); i++)
    if (reason_names[i] != NULL && g_strcmp0 (reason_names[i], name) == 0)
      return (int) i;
  return -1;
}

const char *
imzala_portal_pki_reason_to_name (int reason)
{
  if (reason < 0 || reason >= (int) G_N_ELEMENTS (reason_names) || reason_names[reason] == NULL)
    return "unspecified";
  return reason_names[reason];
}

/* ---- Status ---- */

X509 *
imzala_portal_pki_get_issuing_x509 (ImzalaPortalPki *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_PKI (self), NULL);
  return imzala_portal_ca_get_issuing_x509 (self->ca);
}

/* ---- CA certificates and the CRL ---- */

static GBytes *
cert_der (X509 *cert)
{
  unsigned char *data = NULL;
  int length = i2d_X509 (cert, &data);

  return bytes_from_der (data, length);
}

GBytes *
imzala_portal_pki_get_ca_der (ImzalaPortalPki *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_PKI (self), NULL);
  return cert_der (imzala_portal_ca_get_issuing_x509 (self->ca));
}

GBytes *
imzala_portal_pki_get_root_der (ImzalaPortalPki *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_PKI (self), NULL);
  return cert_der (imzala_portal_ca_get_root_x509 (self->ca));
}

static gboolean
add_revoked (X509_CRL *crl, const ImzalaPortalRevoked *revoked)
{
  X509_REVOKED *entry = X509_REVOKED_new ();
  BIGNUM *bn = NULL;
  ASN1_INTEGER *serial = NULL;
  ASN1_TIME *when = ASN1_TIME_set (NULL, (time_t) revoked->revoked_at);
  gboolean ok;

  ok = BN_hex2bn (&bn, revoked->serial) > 0
    && (serial = BN_to_ASN1_INTEGER (bn, NULL)) != NULL
    && when != NULL
    && X509_REVOKED_set_serialNumber (entry, serial) == 1
    && X509_REVOKED_set_revocationDate (entry, when) == 1;
  if (ok && revoked->reason >= 0)
    {
      ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new ();

      ok = ASN1_ENUMERATED_set (reason, revoked->reason) == 1
        && X509_REVOKED_add1_ext_i2d (entry, NID_crl_reason, reason, 0, 0) == 1;
      ASN1_ENUMERATED_free (reason);
    }
  if (ok)
    ok = X509_CRL_add0_revoked (crl, entry) == 1;
  if (!ok)
    X509_REVOKED_free (entry);
  ASN1_INTEGER_free (serial);
  ASN1_TIME_free (when);
  BN_free (bn);
  return ok;
}

GBytes *
imzala_portal_pki_make_crl (ImzalaPortalPki *self, GError **error)
{
  g_autoptr(GPtrArray) revoked = NULL;
  X509 *issuing;
  EVP_PKEY *key;
  X509_CRL *crl;
  ASN1_TIME *this_update = NULL, *next_update = NULL;
  ASN1_INTEGER *number = NULL;
  X509_EXTENSION *aki = NULL;
  X509V3_CTX ctx;
  unsigned char *data = NULL;
  int length = 0;
  gboolean ok;

  g_return_val_if_fail (IMZALA_IS_PORTAL_PKI (self), NULL);

  issuing = imzala_portal_ca_get_issuing_x509 (self->ca);
  key = imzala_portal_ca_get_issuing_key (self->ca);
  revoked = imzala_portal_store_list_revoked (self->store);

  crl = X509_CRL_new ();
  this_update = X509_gmtime_adj (NULL, 0);
  next_update = X509_time_adj_ex (NULL, 1, 0, NULL);
  /* The CRL number only ever grows: microseconds since the epoch. */
  number = ASN1_INTEGER_new ();
  ok = X509_CRL_set_version (crl, X509_CRL_VERSION_2) == 1
    && X509_CRL_set_issuer_name (crl, X509_get_subject_name (issuing)) == 1
    && X509_CRL_set1_lastUpdate (crl, this_update) == 1
    && X509_CRL_set1_nextUpdate (crl, next_update) == 1
    && ASN1_INTEGER_set_int64 (number, g_get_real_time ()) == 1
    && X509_CRL_add1_ext_i2d (crl, NID_crl_number, number, 0, 0) == 1;
  if (ok)
    {
      X509V3_set_ctx (&ctx, issuing, NULL, NULL, crl, 0);
      aki = X509V3_EXT_conf_nid (NULL, &ctx, NID_authority_key_identifier, "keyid:always");
      ok = aki != NULL && X509_CRL_add_ext (crl, aki, -1) == 1;
    }
  for (guint i = 0; ok && i < revoked->len; i++)
    ok = add_revoked (crl, g_ptr_array_index (revoked, i));
  if (ok)
    {
      X509_CRL_sort (crl);
      ok = X509_CRL_sign (crl, key, EVP_PKEY_get_bits (key) > 256 ? EVP_sha384 () : EVP_sha256 ()) > 0;
    }
  if (ok)
    length = i2d_X509_CRL (crl, &data);
  X509_EXTENSION_free (aki);
  ASN1_INTEGER_free (number);
  ASN1_TIME_free (this_update);
  ASN1_TIME_free (next_update);
  X509_CRL_free (crl);
  if (!ok || length <= 0)
    {
      set_openssl_error (error, "make the CRL");
      return NULL;
    }
  return bytes_from_der (data, length);
}

gboolean
imzala_portal_pki_write_crl (ImzalaPortalPki *self, GError **error)
{
  g_autoptr(GBytes) crl = imzala_portal_pki_make_crl (self, error);

  if (crl == NULL)
    return FALSE;
  return g_file_set_contents (self->crl_file, g_bytes_get_data (crl, NULL), g_bytes_get_size (crl), error);
}

/* ---- OCSP ---- */

static GBytes *
ocsp_response (int status, OCSP_BASICRESP *basic)
{
  OCSP_RESPONSE *response = OCSP_response_create (status, basic);
  unsigned char *data = NULL;
  int length = response != NULL ? i2d_OCSP_RESPONSE (response, &data) : 0;

  OCSP_RESPONSE_free (response);
  return bytes_from_der (data, length);
}

/* One SingleResponse: ours when the CertID names our issuing CA (with
 * whatever hash the client chose), else unknown. */
static gboolean
add_single_response (ImzalaPortalPki *self,
                     OCSP_BASICRESP  *basic,
                     OCSP_CERTID     *id,
                     ASN1_TIME       *this_update,
                     ASN1_TIME       *next_update)
{
  X509 *issuing = imzala_portal_ca_get_issuing_x509 (self->ca);
  ASN1_OBJECT *md_object = NULL;
  ASN1_INTEGER *serial = NULL;
  const EVP_MD *md;
  ImzalaPortalCertStatus status = IMZALA_PORTAL_CERT_UNKNOWN;
  gint64 revoked_at = 0;
  int reason = -1;
  ASN1_TIME *revocation_time = NULL;
  int ocsp_status;
  gboolean ok;

  OCSP_id_get0_info (NULL, &md_object, NULL, &serial, id);
  md = md_object != NULL ? EVP_get_digestbyobj (md_object) : NULL;
  if (md != NULL && serial != NULL)
    {
      OCSP_CERTID *ours = OCSP_cert_id_new (md, X509_get_subject_name (issuing),
                                            X509_get0_pubkey_bitstr (issuing), serial);

      if (ours != NULL && OCSP_id_issuer_cmp (ours, id) == 0)
        {
          g_autofree char *hex = imzala_portal_pki_serial_hex (serial);

          status = imzala_portal_store_get_certificate_status (self->store, hex, &revoked_at, &reason);
        }
      OCSP_CERTID_free (ours);
    }

  switch (status)
    {
    case IMZALA_PORTAL_CERT_GOOD:
      ocsp_status = V_OCSP_CERTSTATUS_GOOD;
      break;
    case IMZALA_PORTAL_CERT_REVOKED:
      ocsp_status = V_OCSP_CERTSTATUS_REVOKED;
      revocation_time = ASN1_TIME_set (NULL, (time_t) revoked_at);
      break;
    default:
      ocsp_status = V_OCSP_CERTSTATUS_UNKNOWN;
      break;
    }
  ok = OCSP_basic_add1_status (basic, id, ocsp_status,
                               ocsp_status == V_OCSP_CERTSTATUS_REVOKED ? reason : 0,
                               revocation_time, this_update, next_update) != NULL;
  ASN1_TIME_free (revocation_time);
  return ok;
}

GBytes *
imzala_portal_pki_answer_ocsp (ImzalaPortalPki *self, GBytes *request_bytes)
{
  gsize size;
  const unsigned char *data = g_bytes_get_data (request_bytes, &size);
  OCSP_REQUEST *request = NULL;
  OCSP_BASICRESP *basic = NULL;
  ASN1_TIME *this_update = NULL, *next_update = NULL;
  GBytes *answer;
  int count;
  gboolean ok = TRUE;

  g_return_val_if_fail (IMZALA_IS_PORTAL_PKI (self), NULL);

  if (size > 0 && size < G_MAXINT)
    request = d2i_OCSP_REQUEST (NULL, &data, (long) size);
  count = request != NULL ? OCSP_request_onereq_count (request) : 0;
  if (request == NULL || count <= 0 || data != (const unsigned char *) g_bytes_get_data (request_bytes, NULL) + size)
    {
      ERR_clear_error ();
      OCSP_REQUEST_free (request);
      return ocsp_response (OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, NULL);
    }

  basic = OCSP_BASICRESP_new ();
  this_update = X509_gmtime_adj (NULL, 0);
  next_update = X509_gmtime_adj (NULL, 3600);
  for (int i = 0; ok && i < count; i++)
    ok = add_single_response (self, basic, OCSP_onereq_get0_id (OCSP_request_onereq_get0 (request, i)),
                              this_update, next_update);
  /* OCSP_copy_nonce() answers 2 when the request had no nonce. */
  ok = ok && OCSP_copy_nonce (basic, request) > 0
    && OCSP_basic_sign (basic, self->ocsp_cert, self->ocsp_key, EVP_sha256 (), NULL,
                        OCSP_RESPID_KEY) == 1;
  if (ok)
    answer = ocsp_response (OCSP_RESPONSE_STATUS_SUCCESSFUL, basic);
  else
    {
      g_autoptr(GError) error = NULL;

      set_openssl_error (&error, "answer an OCSP request");
      g_warning ("%s", error->message);
      answer = ocsp_response (OCSP_RESPONSE_STATUS_INTERNALERROR, NULL);
    }
  ASN1_TIME_free (this_update);
  ASN1_TIME_free (next_update);
  OCSP_BASICRESP_free (basic);
  OCSP_REQUEST_free (request);
  return answer;
}

/* ---- RFC 3161 time-stamps ---- */

static ASN1_INTEGER *
tsa_serial_cb (TS_RESP_CTX *ctx, void *data)
{
  guint8 bytes[16];
  BIGNUM *bn;
  ASN1_INTEGER *serial = NULL;

  /* A random 128-bit positive serial: unique without a counter on disk. */
  if (RAND_bytes (bytes, sizeof bytes) != 1)
    goto fail;
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01;
  bn = BN_bin2bn (bytes, sizeof bytes, NULL);
  serial = bn != NULL ? BN_to_ASN1_INTEGER (bn, NULL) : NULL;
  BN_free (bn);
  if (serial != NULL)
    return serial;
fail:
  TS_RESP_CTX_set_status_info (ctx, TS_STATUS_REJECTION, "Could not draw a serial number.");
  TS_RESP_CTX_add_failure_info (ctx, TS_INFO_ADD_INFO_NOT_AVAILABLE);
  return NULL;
}

GBytes *
imzala_portal_pki_answer_tsa (ImzalaPortalPki *self, GBytes *query)
{
  TS_RESP_CTX *ctx;
  ASN1_OBJECT *policy;
  STACK_OF(X509) *chain;
  BIO *in;
  TS_RESP *response = NULL;
  unsigned char *data = NULL;
  int length = 0;
  gboolean ok;

  g_return_val_if_fail (IMZALA_IS_PORTAL_PKI (self), NULL);

  ctx = TS_RESP_CTX_new ();
  policy = OBJ_txt2obj (IMZALA_PORTAL_TSA_POLICY, 1);
  chain = sk_X509_new_null ();
  sk_X509_push (chain, imzala_portal_ca_get_issuing_x509 (self->ca));
  in = BIO_new_mem_buf (g_bytes_get_data (query, NULL), (int) g_bytes_get_size (query));
  ok = ctx != NULL && policy != NULL && in != NULL
    && TS_RESP_CTX_set_signer_cert (ctx, self->tsa_cert) == 1
    && TS_RESP_CTX_set_signer_key (ctx, self->tsa_key) == 1
    && TS_RESP_CTX_set_signer_digest (ctx, EVP_sha256 ()) == 1
    /* ESS signing-certificate-v2 with SHA-256, not v1 with SHA-1. */
    && TS_RESP_CTX_set_ess_cert_id_digest (ctx, EVP_sha256 ()) == 1
    && TS_RESP_CTX_set_def_policy (ctx, policy) == 1
    && TS_RESP_CTX_set_certs (ctx, chain) == 1
    && TS_RESP_CTX_add_md (ctx, EVP_sha256 ()) == 1
    && TS_RESP_CTX_add_md (ctx, EVP_sha384 ()) == 1
    && TS_RESP_CTX_add_md (ctx, EVP_sha512 ()) == 1
    && TS_RESP_CTX_set_accuracy (ctx, 1, 0, 0) == 1;
  if (ok)
    {
      TS_RESP_CTX_set_serial_cb (ctx, tsa_serial_cb, NULL);
      response = TS_RESP_create_response (ctx, in);
    }
  if (response != NULL)
    length = i2d_TS_RESP (response, &data);
  if (length <= 0)
    {
      g_autoptr(GError) error = NULL;

      set_openssl_error (&error, "answer a time-stamp query");
      g_warning ("%s", error->message);
    }
  TS_RESP_free (response);
  BIO_free (in);
  sk_X509_free (chain);
  ASN1_OBJECT_free (policy);
  TS_RESP_CTX_free (ctx);
  return bytes_from_der (data, length);
}
