/* imzala-cms.h: CAdES-BES CMS SignedData, built and verified with OpenSSL 3.0.
 *
 * The builder never touches a private key: it makes the SignerInfo with the
 * certificate's public key standing in (CMS_PARTIAL), adds the signed
 * attributes by hand (contentType, messageDigest, signingTime, ESS
 * signing-certificate-v2), has the DER SET OF attributes signed by a
 * callback (a token: imzala_token_sign_cms(); or an OpenSSL key in the
 * tests), checks that signature with the signer's public key (once: a sign
 * function that checks its own says so with IMZALA_CMS_SIGNATURE_CHECKED)
 * and puts it in. The finished DER is not parsed again (issue 12: that was
 * 3.5 M instructions of a 62 M `imzala-cli sign`). Pure OpenSSL: nothing
 * here knows PKCS#11.
 */
#pragma once

#include <gio/gio.h>
#include <openssl/x509.h>

#include "imzala-certificate.h"
#include "imzala-digest.h"

G_BEGIN_DECLS

typedef enum /*< flags >*/
{
  IMZALA_CMS_NONE     = 0,
  IMZALA_CMS_DETACHED = 1 << 0, /* leave the content out of the SignedData */
  /* The sign function verifies every signature it returns with the
   * signer's public key over the bytes it was given (imzala_token_sign()
   * does, as it must to tell an ECDSA r||s from a DER signature), so the
   * builder does not verify it a second time. */
  IMZALA_CMS_SIGNATURE_CHECKED = 1 << 1,
} ImzalaCmsFlags;

/* Signs @to_be_signed (the DER SET OF signed attributes) hashing with
 * @digest; returns RSA PKCS#1 v1.5 bytes or a DER ECDSA-Sig-Value. */
typedef GBytes *(*ImzalaCmsSignFunc) (GBytes       *to_be_signed,
                                      ImzalaDigest  digest,
                                      gpointer      user_data,
                                      GCancellable *cancellable,
                                      GError      **error);

/* Builds a CAdES-BES SignedData (DER) over @content. @extra_certificates
 * (ImzalaCertificate, nullable) are added to the certificate set (the CA
 * certificates on the token). @signing_time NULL means now. */
GBytes *imzala_cms_sign (ImzalaCertificate *signer,
                         GPtrArray         *extra_certificates,
                         GBytes            *content,
                         ImzalaCmsFlags     flags,
                         GDateTime         *signing_time,
                         ImzalaCmsSignFunc  sign_func,
                         gpointer           sign_data,
                         GCancellable      *cancellable,
                         GError           **error);

/* The builder under imzala_cms_sign() and imzala_cms_sign_digest(), for a
 * caller whose certificates to carry are DER: @certificates (GBytes, each a
 * DER Certificate, nullable) are put into the SignedData's certificates
 * besides the signer's, each once, without being parsed (a token listed for
 * one named certificate keeps its CA certificates unparsed:
 * imzala_module_set_only_certificate()). @content_digest NULL means the
 * hash of @content, which is then at most IMZALA_CMS_MAX_CONTENT_SIZE;
 * otherwise it must be the imzala_digest_for_certificate (@signer) hash of
 * the content. The content goes into eContent unless @content is NULL or
 * @flags has IMZALA_CMS_DETACHED. */
GBytes *imzala_cms_sign_full (ImzalaCertificate *signer,
                              GPtrArray         *certificates,
                              GBytes            *content,
                              GBytes            *content_digest,
                              ImzalaCmsFlags     flags,
                              GDateTime         *signing_time,
                              ImzalaCmsSignFunc  sign_func,
                              gpointer           sign_data,
                              GCancellable      *cancellable,
                              GError           **error);

/* ---- Big content, as a stream (issue 12) ----
 *
 * imzala_cms_sign() holds the content in memory and refuses more than
 * IMZALA_CMS_MAX_CONTENT_SIZE (portal texts are small). A file is signed in
 * steps instead, in constant memory: imzala_cms_digest_stream() hashes it
 * (a first pass), imzala_cms_sign_digest() builds and signs a detached
 * SignedData whose messageDigest is that hash, and for an attached signature
 * imzala_cms_write_attached() writes that SignedData with the content put
 * into eContent (a second pass, hashed again and compared, so that a file
 * changed between the passes is refused). The attached DER is byte for byte
 * what imzala_cms_sign() makes in memory. */

/* The most imzala_cms_sign() signs (64 MiB). */
#define IMZALA_CMS_MAX_CONTENT_SIZE (G_GUINT64_CONSTANT (64) * 1024 * 1024)
/* The most an attached signature made from a stream carries: OpenSSL's ASN.1
 * strings, and so every verifier built on it (openssl cms, İmzala's own),
 * hold at most 2^31 - 1 bytes. Detached signatures have no limit. */
#define IMZALA_CMS_MAX_ATTACHED_SIZE ((guint64) G_MAXINT)

/* Progress of a pass over the content: @done bytes of @total (0 when the
 * size is not known). Called on the thread that runs the pass, after each
 * chunk read (a chunk is 256 KiB). The window's file signing page can use
 * it as well as imzala-cli sign --progress. */
typedef void (*ImzalaCmsProgressFunc) (guint64  done,
                                       guint64  total,
                                       gpointer user_data);

/* A source of content and a sink for an attached signature, for a caller
 * without GIO streams (imzala-cli, which then does not load GIO: see
 * src/cli/imzala-cli-lazy.h). An ImzalaCmsReadFunc puts at most @size bytes
 * into @buffer and returns how many, 0 at the end, or -1 with @error set; an
 * ImzalaCmsWriteFunc writes all @size bytes or sets @error. */
typedef gssize   (*ImzalaCmsReadFunc)  (gpointer       user_data,
                                        guint8        *buffer,
                                        gsize          size,
                                        GError       **error);
typedef gboolean (*ImzalaCmsWriteFunc) (gpointer       user_data,
                                        const guint8  *buffer,
                                        gsize          size,
                                        GError       **error);

/* imzala_cms_digest_stream() over @read_func. */
GBytes  *imzala_cms_digest_read   (ImzalaCmsReadFunc      read_func,
                                   gpointer               read_data,
                                   ImzalaDigest           digest,
                                   guint64                total,
                                   ImzalaCmsProgressFunc  progress,
                                   gpointer               progress_data,
                                   guint64               *length_out,
                                   GError               **error);

/* Hashes @input to its end with @digest; @total (0 when unknown) is only
 * passed to @progress. @length_out (nullable) gets the number of bytes read.
 * Returns the digest value. */
GBytes  *imzala_cms_digest_stream (GInputStream          *input,
                                   ImzalaDigest           digest,
                                   guint64                total,
                                   ImzalaCmsProgressFunc  progress,
                                   gpointer               progress_data,
                                   guint64               *length_out,
                                   GCancellable          *cancellable,
                                   GError               **error);

/* A detached CAdES-BES SignedData (DER) over the content whose
 * imzala_digest_for_certificate (@signer) hash is @content_digest; otherwise
 * as imzala_cms_sign(). The signature is checked against @signer's key
 * before it is put in. */
GBytes  *imzala_cms_sign_digest   (ImzalaCertificate *signer,
                                   GPtrArray         *extra_certificates,
                                   GBytes            *content_digest,
                                   GDateTime         *signing_time,
                                   ImzalaCmsSignFunc  sign_func,
                                   gpointer           sign_data,
                                   GCancellable      *cancellable,
                                   GError           **error);

/* Writes @detached_cms (from imzala_cms_sign_digest()) to @output as an
 * attached SignedData whose eContent is @content_length bytes read from
 * @content. The content is hashed again as it is copied: when it is not the
 * @content_digest (@digest) it was signed with, or not @content_length bytes
 * long, this fails (IMZALA_ERROR_CONTENT_MISMATCH) after having written part
 * of the output, which the caller must then discard. Refuses more than
 * IMZALA_CMS_MAX_ATTACHED_SIZE (IMZALA_ERROR_CONTENT_TOO_LARGE) before
 * writing anything. @output is not closed. */
gboolean imzala_cms_write_attached (GBytes                *detached_cms,
                                    GInputStream          *content,
                                    guint64                content_length,
                                    GBytes                *content_digest,
                                    ImzalaDigest           digest,
                                    GOutputStream         *output,
                                    ImzalaCmsProgressFunc  progress,
                                    gpointer               progress_data,
                                    GCancellable          *cancellable,
                                    GError               **error);

/* imzala_cms_write_attached() from @read_func to @write_func. */
gboolean imzala_cms_write_attached_with (GBytes                *detached_cms,
                                         ImzalaCmsReadFunc      read_func,
                                         gpointer               read_data,
                                         guint64                content_length,
                                         GBytes                *content_digest,
                                         ImzalaDigest           digest,
                                         ImzalaCmsWriteFunc     write_func,
                                         gpointer               write_data,
                                         ImzalaCmsProgressFunc  progress,
                                         gpointer               progress_data,
                                         GError               **error);

/* ---- Verification ---- */

typedef enum /*< flags >*/
{
  IMZALA_VERIFY_NONE                  = 0,
  /* Do not require the ESS signing-certificate-v2 attribute (plain CMS). */
  IMZALA_VERIFY_ALLOW_NO_SIGNING_CERT = 1 << 0,
} ImzalaVerifyFlags;

typedef struct
{
  ImzalaCertificate *signer;
  GDateTime         *signing_time;   /* from the signed attributes */
  GBytes            *content;        /* the content that was signed */
  ImzalaDigest       digest;
  gboolean           detached;
  gboolean           has_signing_certificate_v2;
} ImzalaVerifyResult;

void imzala_verify_result_free (ImzalaVerifyResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaVerifyResult, imzala_verify_result_free)

/* Loads the PEM certificates in @path as trust anchors. */
X509_STORE *imzala_cms_load_trust_file (const char *path, GError **error);

/* Verifies one CMS SignedData (DER or PEM) with exactly one signer: the
 * signature, the content digest (against @detached_content when the CMS has
 * none), a chain to @trust using the certificates in the CMS, validity at the
 * signing time, and signing-certificate-v2 naming the signer. Errors:
 * CMS_INVALID, SIGNATURE_INVALID, CONTENT_MISMATCH, UNTRUSTED,
 * CERTIFICATE_EXPIRED, SIGNING_CERTIFICATE_MISMATCH. */
ImzalaVerifyResult *imzala_cms_verify (GBytes            *cms,
                                       GBytes            *detached_content,
                                       X509_STORE        *trust,
                                       ImzalaVerifyFlags  flags,
                                       GError           **error);

G_END_DECLS
