#define G_LOG_DOMAIN "imzala-timestamp"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>

#include "imzala-error.h"
#include "imzala-timestamp.h"

void
imzala_timestamp_free (ImzalaTimestamp *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->time, g_date_time_unref);
  X509_free (self->tsa);
  g_free (self->policy);
  g_free (self->digest);
  sk_X509_pop_free (self->chain, X509_free);
  g_free (self);
}

static void
log_openssl_errors (const char *what)
{
  unsigned long code;

  while ((code = ERR_get_error ()) != 0)
    {
      char buffer[256];

      ERR_error_string_n (code, buffer, sizeof buffer);
      g_debug ("%s: %s", what, buffer);
    }
}

static GDateTime *
date_time_from_asn1 (const ASN1_TIME *time)
{
  struct tm tm = { 0 };

  if (time == NULL || !ASN1_TIME_check (time) || !ASN1_TIME_to_tm (time, &tm))
    return NULL;
  return g_date_time_new_utc (tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                              tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static gboolean
fail (GError **error, ImzalaError code, const char *message, const char *detail)
{
  g_debug ("Time-stamp refused: %s", detail);
  log_openssl_errors ("OpenSSL");
  g_set_error_literal (error, IMZALA_ERROR, code, message);
  return FALSE;
}

static const EVP_MD *
imprint_md (TS_TST_INFO *info)
{
  X509_ALGOR *algorithm = TS_MSG_IMPRINT_get_algo (TS_TST_INFO_get_msg_imprint (info));

  switch (OBJ_obj2nid (algorithm->algorithm))
    {
    case NID_sha256:
    case NID_sha384:
    case NID_sha512:
      return EVP_get_digestbyobj (algorithm->algorithm);
    default:
      return NULL;
    }
}

/* The messageImprint must be the hash of @data (or be @given_digest, the
 * data's hash under the token's algorithm) under the token's own hash
 * algorithm (SHA-256 or stronger). */
static gboolean
check_imprint (TS_TST_INFO *info, const guint8 *data, gsize size, const guint8 *given_digest,
               gsize given_size, char **digest_name, GError **error)
{
  ASN1_OCTET_STRING *value = TS_MSG_IMPRINT_get_msg (TS_TST_INFO_get_msg_imprint (info));
  const EVP_MD *md = imprint_md (info);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;

  if (md == NULL)
    return fail (error, IMZALA_ERROR_CMS_INVALID,
                 _("The time-stamp uses a hash algorithm that is not accepted."),
                 "imprint hash algorithm");
  if (given_digest != NULL)
    {
      if (given_size != (gsize) EVP_MD_get_size (md))
        return fail (error, IMZALA_ERROR_FAILED, _("The time-stamp could not be checked."),
                     "digest of another algorithm");
      memcpy (digest, given_digest, given_size);
      length = (unsigned int) given_size;
    }
  else if (!EVP_Digest (data, size, digest, &length, md, NULL))
    return fail (error, IMZALA_ERROR_FAILED, _("The time-stamp could not be checked."), "hashing");
  *digest_name = g_strdup (EVP_MD_get0_name (md));
  if ((unsigned int) ASN1_STRING_length (value) != length
      || CRYPTO_memcmp (ASN1_STRING_get0_data (value), digest, length) != 0)
    return fail (error, IMZALA_ERROR_CONTENT_MISMATCH,
                 _("The time-stamp is not about this signature or content (its message imprint "
                   "differs)."), "imprint mismatch");
  return TRUE;
}

const EVP_MD *
imzala_timestamp_get_imprint_md (GBytes *token)
{
  gsize size = 0;
  const unsigned char *data = token != NULL ? g_bytes_get_data (token, &size) : NULL;
  const unsigned char *p = data;
  PKCS7 *p7 = data != NULL && size > 0 && size <= G_MAXLONG ? d2i_PKCS7 (NULL, &p, (long) size) : NULL;
  TS_TST_INFO *info = p7 != NULL ? PKCS7_to_TS_TST_INFO (p7) : NULL;
  const EVP_MD *md = info != NULL ? imprint_md (info) : NULL;

  TS_TST_INFO_free (info);
  PKCS7_free (p7);
  ERR_clear_error ();
  return md;
}

/* The TSA's chain as TS_RESP_verify_token() verified it, which does not
 * hand it out, for the status of its certificates: keep_chain_cb(), the
 * store's verify callback, keeps a copy when the last certificate (depth
 * 0) passed the step of signatures and validity periods, in the slot the
 * store's ex_data points to. TS_RESP_verify_token() verifies one chain; if
 * the token fails after it, the copy is dropped with the token. (It was
 * verified a second time for this before, a P-384 verification more for
 * each time-stamp with a chain under a P-384 CA.) */
static int kept_chain_index = -1;

static int
keep_chain_cb (int ok, X509_STORE_CTX *store_ctx)
{
  if (ok == 1 && X509_STORE_CTX_get_error_depth (store_ctx) == 0)
    {
      STACK_OF (X509) **kept = X509_STORE_get_ex_data (X509_STORE_CTX_get0_store (store_ctx),
                                                       kept_chain_index);

      if (kept != NULL && *kept == NULL)
        *kept = X509_STORE_CTX_get1_chain (store_ctx);
    }
  return ok;
}

/* Makes @store keep the chain it verifies in *@kept. */
static gboolean
store_keep_chain (X509_STORE *store, STACK_OF (X509) **kept)
{
  static gsize once;

  if (g_once_init_enter (&once))
    {
      kept_chain_index = X509_STORE_get_ex_new_index (0, NULL, NULL, NULL, NULL);
      g_once_init_leave (&once, 1);
    }
  if (kept_chain_index < 0 || !X509_STORE_set_ex_data (store, kept_chain_index, kept))
    return FALSE;
  X509_STORE_set_verify_cb (store, keep_chain_cb);
  return TRUE;
}

static ImzalaTimestamp *
verify_token (GBytes          *token,
              const guint8    *data,
              gsize            size,
              const guint8    *given_digest,
              gsize            given_size,
              ImzalaTrust     *trust,
              STACK_OF (X509) *extra,
              GCancellable    *cancellable,
              GError         **error);

ImzalaTimestamp *
imzala_timestamp_verify (GBytes          *token,
                         const guint8    *data,
                         gsize            size,
                         ImzalaTrust     *trust,
                         STACK_OF (X509) *extra,
                         GCancellable    *cancellable,
                         GError         **error)
{
  return verify_token (token, data, size, NULL, 0, trust, extra, cancellable, error);
}

ImzalaTimestamp *
imzala_timestamp_verify_digest (GBytes          *token,
                                const guint8    *digest,
                                gsize            digest_size,
                                ImzalaTrust     *trust,
                                STACK_OF (X509) *extra,
                                GCancellable    *cancellable,
                                GError         **error)
{
  g_return_val_if_fail (digest != NULL, NULL);
  return verify_token (token, NULL, 0, digest, digest_size, trust, extra, cancellable, error);
}

static ImzalaTimestamp *
verify_token (GBytes          *token,
              const guint8    *data,
              gsize            size,
              const guint8    *given_digest,
              gsize            given_size,
              ImzalaTrust     *trust,
              STACK_OF (X509) *extra,
              GCancellable    *cancellable,
              GError         **error)
{
  STACK_OF (X509) *chain = NULL;
  gsize token_size = 0;
  const unsigned char *token_data;
  const unsigned char *p;
  PKCS7 *p7 = NULL;
  TS_TST_INFO *info = NULL;
  TS_VERIFY_CTX *ctx = NULL;
  STACK_OF (X509) *signers = NULL;
  STACK_OF (X509) *untrusted = NULL;
  X509_STORE *store = NULL;
  X509 *tsa = NULL;
  ImzalaTimestamp *result = NULL;
  g_autoptr(GDateTime) time = NULL;
  g_autofree char *digest_name = NULL;
  char policy[128] = "";
  time_t when;
  gboolean ok = FALSE;

  g_return_val_if_fail (token != NULL && IMZALA_IS_TRUST (trust), NULL);

  ERR_clear_error ();
  token_data = g_bytes_get_data (token, &token_size);
  p = token_data;
  if (token_data == NULL || token_size == 0 || token_size > G_MAXLONG)
    {
      fail (error, IMZALA_ERROR_CMS_INVALID, _("The time-stamp cannot be read."), "empty");
      return NULL;
    }
  p7 = d2i_PKCS7 (NULL, &p, (long) token_size);
  if (p7 == NULL || p != token_data + token_size)
    {
      fail (error, IMZALA_ERROR_CMS_INVALID, _("The time-stamp cannot be read."), "not PKCS#7");
      goto out;
    }
  info = PKCS7_to_TS_TST_INFO (p7);
  if (info == NULL)
    {
      fail (error, IMZALA_ERROR_CMS_INVALID, _("The time-stamp cannot be read."), "no TSTInfo");
      goto out;
    }
  time = date_time_from_asn1 (TS_TST_INFO_get_time (info));
  if (time == NULL)
    {
      fail (error, IMZALA_ERROR_CMS_INVALID, _("The time-stamp cannot be read."), "genTime");
      goto out;
    }
  when = (time_t) g_date_time_to_unix (time);
  if (TS_TST_INFO_get_policy_id (info) != NULL)
    OBJ_obj2txt (policy, sizeof policy, TS_TST_INFO_get_policy_id (info), 1);

  if (!check_imprint (info, data, size, given_digest, given_size, &digest_name, error))
    goto out;

  /* The TSA's certificate: the signer of the token, carried in it (a TSA
   * is asked to include it) or among @extra. */
  untrusted = sk_X509_new_null ();
  for (int i = 0; extra != NULL && i < sk_X509_num (extra); i++)
    sk_X509_push (untrusted, sk_X509_value (extra, i));
  signers = PKCS7_get0_signers (p7, untrusted, 0);
  if (signers == NULL || sk_X509_num (signers) != 1)
    {
      fail (error, IMZALA_ERROR_CMS_INVALID,
            _("The time-stamp does not contain the certificate of the time-stamp authority."),
            "no TSA certificate");
      goto out;
    }
  tsa = sk_X509_value (signers, 0);
  if (X509_cmp_time (X509_get0_notBefore (tsa), &when) > 0
      || X509_cmp_time (X509_get0_notAfter (tsa), &when) < 0)
    {
      fail (error, IMZALA_ERROR_CERTIFICATE_EXPIRED,
            _("The time-stamp authority’s certificate was not valid at the time it claims."),
            "TSA certificate not valid at genTime");
      goto out;
    }

  /* Missing intermediates of the TSA from its AIA. */
  {
    STACK_OF (X509) *fetched = imzala_trust_fetch_issuers (trust, tsa, cancellable);

    for (int i = 0; i < sk_X509_num (fetched); i++)
      {
        X509 *x509 = sk_X509_value (fetched, i);

        sk_X509_push (untrusted, x509);
      }
    /* The stack of untrusted certs borrows; keep the fetched ones alive
     * until the end by leaving them on @fetched, freed below. */
    ctx = TS_VERIFY_CTX_new ();
    store = imzala_trust_new_store (trust, when);
    if (ctx != NULL && store != NULL && store_keep_chain (store, &chain))
      {
        STACK_OF (X509) *certs = X509_chain_up_ref (untrusted);

        TS_VERIFY_CTX_set_flags (ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_SIGNER);
        TS_VERIFY_CTX_set_store (ctx, store);
        store = NULL; /* the context owns it now */
        TS_VERIFY_CTX_set_certs (ctx, certs);
        ok = TS_RESP_verify_token (ctx, p7) == 1;
      }
    sk_X509_pop_free (fetched, X509_free);
  }

  if (!ok)
    {
      unsigned long code = ERR_peek_last_error ();

      if (ERR_GET_LIB (code) == ERR_LIB_TS && ERR_GET_REASON (code) == TS_R_CERTIFICATE_VERIFY_ERROR)
        fail (error, IMZALA_ERROR_UNTRUSTED,
              _("The time-stamp authority’s certificate was not issued by a trusted certification "
                "authority."), "TSA chain");
      else
        fail (error, IMZALA_ERROR_SIGNATURE_INVALID,
              _("The time-stamp’s signature is not valid, or its authority’s certificate is not "
                "meant for time-stamping."), "TS_RESP_verify_token");
      goto out;
    }

  result = g_new0 (ImzalaTimestamp, 1);
  result->time = g_steal_pointer (&time);
  result->tsa = X509_dup (tsa);
  result->policy = g_strdup (policy);
  result->digest = g_steal_pointer (&digest_name);
  result->chain = g_steal_pointer (&chain);

out:
  sk_X509_pop_free (chain, X509_free);
  TS_VERIFY_CTX_free (ctx);
  X509_STORE_free (store);
  sk_X509_free (signers);
  sk_X509_free (untrusted);
  TS_TST_INFO_free (info);
  PKCS7_free (p7);
  ERR_clear_error ();
  return result;
}
