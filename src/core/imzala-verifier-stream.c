/* imzala-verifier-stream.c: verifying signatures of big files without
 * holding the content (issue 12, item 4).
 *
 * The verifier needs the content only as its hashes (messageDigest, a
 * signature without signed attributes, a content time-stamp's imprint), so
 * the content is hashed once, in chunks, with every hash needed. For a
 * detached signature the CMS is parsed first and tells which hashes. For an
 * attached DER signature the eContent octets are located from the DER
 * headers in front of them; the signature is parsed without them (the
 * same DER with the eContent cut out and the enclosing lengths made
 * shorter, which the signatures do not cover) and the octets are hashed
 * where they lie in the file: never copied, never parsed by OpenSSL (whose
 * d2i would copy them, and CMS_verify() once more). See
 * imzala-verifier-private.h for the verifier's other files.
 */
#define G_LOG_DOMAIN "imzala-verifier"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "imzala-error.h"
#include "imzala-verifier.h"
#include "imzala-der-private.h"
#include "imzala-verifier-private.h"
#include "imzala-openssl-thread.h"

/* What is read in front of the content: every DER header up to the
 * eContent octets lies in it (a SignedData puts only its version and
 * digest algorithms there). */
#define HEAD_SIZE (64 * 1024)
/* Hashing reads this much at a time (as imzala_cms_digest_stream()). */
#define CHUNK_SIZE (256 * 1024)

/* ---- Reading ---- */

typedef struct
{
  GInputStream               *stream;
  guint64                     consumed;  /* bytes read from @stream so far */
  ImzalaVerifierProgressFunc  progress;
  gpointer                    progress_data;
  guint64                     done;
  guint64                     total;
  GCancellable               *cancellable;
} Reader;

static gboolean
read_error (GError **error, GError *cause)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, cause);
  else
    {
      g_debug ("Reading: %s", cause->message);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The file could not be read: %s"), cause->message);
      g_error_free (cause);
    }
  return FALSE;
}

/* Up to @size bytes (fewer only at the end of the stream). */
static gboolean
read_some (Reader *reader, guint8 *buffer, gsize size, gsize *got, GError **error)
{
  GError *local = NULL;

  if (!g_input_stream_read_all (reader->stream, buffer, size, got, reader->cancellable, &local))
    return read_error (error, local);
  reader->consumed += *got;
  return TRUE;
}

/* Everything left, appended to @out, refused beyond @limit bytes in all. */
static gboolean
read_rest (Reader *reader, GByteArray *out, gsize limit, GError **error)
{
  g_autofree guint8 *buffer = g_malloc (CHUNK_SIZE);
  gsize got;

  do
    {
      if (!read_some (reader, buffer, CHUNK_SIZE, &got, error))
        return FALSE;
      if (out->len + got > limit)
        {
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID,
                               _("The signature file is too large to be a signature İmzala can "
                                 "read."));
          return FALSE;
        }
      g_byte_array_append (out, buffer, (guint) got);
    }
  while (got == CHUNK_SIZE);
  return TRUE;
}

/* ---- Hashing ---- */

typedef struct
{
  GPtrArray *mds;    /* const EVP_MD * */
  GPtrArray *ctxs;   /* EVP_MD_CTX * */
} Hashes;

static void
hashes_clear (Hashes *hashes)
{
  g_clear_pointer (&hashes->ctxs, g_ptr_array_unref);
  g_clear_pointer (&hashes->mds, g_ptr_array_unref);
}

static gboolean
hashes_init (Hashes *hashes, GPtrArray *mds, GError **error)
{
  hashes->mds = g_ptr_array_ref (mds);
  hashes->ctxs = g_ptr_array_new_with_free_func ((GDestroyNotify) EVP_MD_CTX_free);
  for (guint i = 0; i < mds->len; i++)
    {
      EVP_MD_CTX *ctx = EVP_MD_CTX_new ();

      if (ctx == NULL || EVP_DigestInit_ex (ctx, g_ptr_array_index (mds, i), NULL) != 1)
        {
          EVP_MD_CTX_free (ctx);
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                               _("The content could not be hashed."));
          return FALSE;
        }
      g_ptr_array_add (hashes->ctxs, ctx);
    }
  return TRUE;
}

static void
hashes_update (Hashes *hashes, Reader *reader, const guint8 *data, gsize size)
{
  for (guint i = 0; i < hashes->ctxs->len; i++)
    EVP_DigestUpdate (g_ptr_array_index (hashes->ctxs, i), data, size);
  reader->done += size;
  if (reader->progress != NULL && size > 0)
    reader->progress (reader->done, reader->total, reader->progress_data);
}

static GHashTable *
hashes_finish (Hashes *hashes)
{
  GHashTable *digests = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_bytes_unref);

  for (guint i = 0; i < hashes->ctxs->len; i++)
    {
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int length = 0;

      if (EVP_DigestFinal_ex (g_ptr_array_index (hashes->ctxs, i), digest, &length) == 1)
        g_hash_table_insert (digests,
                             GINT_TO_POINTER (EVP_MD_get_type (g_ptr_array_index (hashes->mds, i))),
                             g_bytes_new (digest, length));
    }
  return digests;
}

/* Hashes @length bytes of the stream (G_MAXUINT64: up to its end). */
static gboolean
hash_stream (Hashes *hashes, Reader *reader, guint64 length, GError **error)
{
  g_autofree guint8 *buffer = g_malloc (CHUNK_SIZE);
  guint64 left = length;

  while (left > 0)
    {
      gsize want = (gsize) MIN (left, (guint64) CHUNK_SIZE);
      gsize got = 0;

      if (!read_some (reader, buffer, want, &got, error))
        return FALSE;
      hashes_update (hashes, reader, buffer, got);
      if (length != G_MAXUINT64)
        left -= got;
      if (got < want)
        {
          if (length == G_MAXUINT64)
            break;
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID,
                               _("The signature file is cut short."));
          return FALSE;
        }
    }
  return TRUE;
}

/* The content's hashes under @mds, from @stream to its end. */
static GHashTable *
digests_of_stream (GPtrArray *mds, Reader *reader, GError **error)
{
  Hashes hashes = { 0 };
  GHashTable *digests = NULL;

  if (hashes_init (&hashes, mds, error) && hash_stream (&hashes, reader, G_MAXUINT64, error))
    digests = hashes_finish (&hashes);
  hashes_clear (&hashes);
  return digests;
}

/* Given content for an attached signature is compared by its hashes: at
 * least SHA-256, also when no signer uses an accepted hash. */
static void
ensure_sha256 (GPtrArray *mds)
{
  for (guint i = 0; i < mds->len; i++)
    if (EVP_MD_get_type (g_ptr_array_index (mds, i)) == NID_sha256)
      return;
  g_ptr_array_add (mds, (gpointer) EVP_sha256 ());
}

/* Given content for an attached signature must be the signed one. */
static gboolean
digests_equal (GHashTable *a, GHashTable *b)
{
  GHashTableIter iter;
  gpointer key, value;

  if (g_hash_table_size (a) != g_hash_table_size (b))
    return FALSE;
  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GBytes *other = g_hash_table_lookup (b, key);

      if (other == NULL || !g_bytes_equal (value, other))
        return FALSE;
    }
  return TRUE;
}

/* ---- The DER in front of the content ---- */

typedef struct
{
  gsize   offset;         /* of the tag */
  gsize   header_length;
  guint64 length;         /* of the contents */
  guint8  tag;
} Tlv;

/* A definite-length DER header at @offset of @buffer (@size bytes). */
static gboolean
read_tlv (const guint8 *buffer, gsize size, gsize offset, guint8 tag, Tlv *tlv)
{
  gsize position = offset + 2;
  guint8 first;

  if (offset + 2 > size || buffer[offset] != tag)
    return FALSE;
  first = buffer[offset + 1];
  tlv->length = 0;
  if (first < 0x80)
    tlv->length = first;
  else
    {
      guint n = first & 0x7f;

      /* 0x80 is BER's indefinite length: not DER, read another way. */
      if (n == 0 || n > 7 || position + n > size)
        return FALSE;
      for (guint i = 0; i < n; i++)
        tlv->length = (tlv->length << 8) | buffer[position++];
    }
  tlv->offset = offset;
  tlv->tag = tag;
  tlv->header_length = position - offset;
  return TRUE;
}

static guint64
tlv_end (const Tlv *tlv)
{
  return tlv->offset + tlv->header_length + tlv->length;
}

typedef struct
{
  Tlv      content_info, explicit, signed_data, encap;
  gboolean attached;
  Tlv      econtent;          /* [0] EXPLICIT around the OCTET STRING */
  guint64  octets_offset;     /* the content's first byte */
  guint64  octets_length;
  guint64  total;             /* the whole signature's length */
} Layout;

/* The SignedData's DER up to the eContent: ContentInfo { contentType,
 * [0] SignedData { version, digestAlgorithms, EncapsulatedContentInfo {
 * eContentType, [0] OCTET STRING } ... } }. FALSE for anything else
 * (BER, PEM, another content type): read it into memory instead. */
static gboolean
find_content (const guint8 *head, gsize size, Layout *layout)
{
  static const guint8 signed_data_oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                            0x01, 0x07, 0x02 };
  Tlv item;
  gsize offset;

  memset (layout, 0, sizeof *layout);
  if (!read_tlv (head, size, 0, 0x30, &layout->content_info))
    return FALSE;
  offset = layout->content_info.header_length;
  if (offset + sizeof signed_data_oid > size
      || memcmp (head + offset, signed_data_oid, sizeof signed_data_oid) != 0)
    return FALSE;
  offset += sizeof signed_data_oid;
  if (!read_tlv (head, size, offset, 0xa0, &layout->explicit))
    return FALSE;
  offset += layout->explicit.header_length;
  if (!read_tlv (head, size, offset, 0x30, &layout->signed_data))
    return FALSE;
  offset += layout->signed_data.header_length;
  if (!read_tlv (head, size, offset, 0x02, &item) || tlv_end (&item) > size)
    return FALSE;
  offset = tlv_end (&item);
  if (!read_tlv (head, size, offset, 0x31, &item) || tlv_end (&item) > size)
    return FALSE;
  offset = tlv_end (&item);
  if (!read_tlv (head, size, offset, 0x30, &layout->encap))
    return FALSE;
  offset += layout->encap.header_length;
  if (!read_tlv (head, size, offset, 0x06, &item) || tlv_end (&item) > size)
    return FALSE;
  offset = tlv_end (&item);

  layout->total = tlv_end (&layout->content_info);
  /* Each element inside the one around it. */
  if (tlv_end (&layout->explicit) != layout->total
      || tlv_end (&layout->signed_data) != layout->total
      || tlv_end (&layout->encap) > layout->total
      || offset > tlv_end (&layout->encap))
    return FALSE;
  if (offset == tlv_end (&layout->encap))
    return TRUE;  /* no eContent: detached */

  if (!read_tlv (head, size, offset, 0xa0, &layout->econtent))
    return FALSE;
  offset += layout->econtent.header_length;
  if (!read_tlv (head, size, offset, 0x04, &item)
      || tlv_end (&item) != tlv_end (&layout->econtent)
      || tlv_end (&layout->econtent) != tlv_end (&layout->encap))
    return FALSE;
  layout->attached = TRUE;
  layout->octets_offset = offset + item.header_length;
  layout->octets_length = item.length;
  return TRUE;
}

static guint
header_size (guint64 length)
{
  guint bytes = 0;

  if (length < 0x80)
    return 2;
  for (guint64 rest = length; rest > 0; rest >>= 8)
    bytes++;
  return 2 + bytes;
}

/* The signature without its eContent: the headers around it shortened by
 * what is cut out, from the inside out (a shorter length may take a
 * shorter header too); @head holds the bytes up to the eContent. */
static void
append_detached_front (GByteArray *out, const guint8 *head, const Layout *layout)
{
  guint64 cut = layout->econtent.header_length + layout->econtent.length;
  gsize oid_start = layout->content_info.header_length;
  gsize inner_start = layout->signed_data.offset + layout->signed_data.header_length;
  gsize encap_inner = layout->encap.offset + layout->encap.header_length;
  guint64 encap_length = layout->encap.length - cut;
  guint64 signed_data_length;
  guint64 explicit_length;
  guint64 content_info_length;

  cut += layout->encap.header_length - header_size (encap_length);
  signed_data_length = layout->signed_data.length - cut;
  cut += layout->signed_data.header_length - header_size (signed_data_length);
  explicit_length = layout->explicit.length - cut;
  cut += layout->explicit.header_length - header_size (explicit_length);
  content_info_length = layout->content_info.length - cut;

  imzala_der_append_header (out, 0x30, content_info_length);
  g_byte_array_append (out, head + oid_start, (guint) (layout->explicit.offset - oid_start));
  imzala_der_append_header (out, 0xa0, explicit_length);
  imzala_der_append_header (out, 0x30, signed_data_length);
  g_byte_array_append (out, head + inner_start, (guint) (layout->encap.offset - inner_start));
  imzala_der_append_header (out, 0x30, encap_length);
  g_byte_array_append (out, head + encap_inner, (guint) (layout->econtent.offset - encap_inner));
}

static CMS_ContentInfo *
parse_exact (GByteArray *der)
{
  const unsigned char *p = der->data;
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) der->len);

  if (cms != NULL && p != der->data + der->len)
    {
      CMS_ContentInfo_free (cms);
      cms = NULL;
    }
  return cms;
}

/* ---- Verifying ---- */

static GPtrArray *
all_accepted_mds (void)
{
  GPtrArray *mds = g_ptr_array_new ();

  g_ptr_array_add (mds, (gpointer) EVP_sha256 ());
  g_ptr_array_add (mds, (gpointer) EVP_sha384 ());
  g_ptr_array_add (mds, (gpointer) EVP_sha512 ());
  return mds;
}

/* The signature as a whole in memory (small, PEM or BER): a detached one's
 * content hashed from @content, an attached one's from its eContent. */
static ImzalaVerification *
verify_in_memory (GByteArray *bytes, Reader *content, ImzalaTrust *trust, GCancellable *cancellable,
                  GError **error)
{
  g_autoptr(GBytes) input = g_byte_array_free_to_bytes (bytes);
  CMS_ContentInfo *cms = verifier_parse_cms (input, trust);
  ASN1_OCTET_STRING **slot;
  const ASN1_OCTET_STRING *inside;
  g_autoptr(GPtrArray) mds = NULL;
  g_autoptr(GHashTable) digests = NULL;
  g_autoptr(GHashTable) given = NULL;
  ImzalaVerification *result = NULL;

  /* The parsed CMS holds its own copy. */
  g_clear_pointer (&input, g_bytes_unref);
  if (!verifier_check_cms_kind (cms, error))
    goto out;
  slot = CMS_get0_content (cms);
  inside = slot != NULL ? *slot : NULL;
  mds = verifier_content_mds (cms);
  if (inside != NULL && content != NULL)
    ensure_sha256 (mds);
  if (inside == NULL && content == NULL)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID,
                           _("The signature does not contain the signed content, and no content "
                             "was given to check it against."));
      goto out;
    }
  if (content != NULL)
    {
      given = digests_of_stream (mds, content, error);
      if (given == NULL)
        goto out;
    }
  if (inside != NULL)
    {
      digests = verifier_content_digests_of_data (mds, ASN1_STRING_get0_data (inside),
                                                  (gsize) ASN1_STRING_length (inside));
      if (given != NULL && !digests_equal (digests, given))
        {
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH,
                               _("The content does not match the one that was signed."));
          goto out;
        }
    }
  else
    digests = g_steal_pointer (&given);
  result = verifier_verify_cms (cms, digests, inside != NULL, trust, cancellable);
  result->content_length = inside != NULL ? (guint64) ASN1_STRING_length (inside) : content->consumed;

out:
  CMS_ContentInfo_free (cms);
  ERR_clear_error ();
  return result;
}

ImzalaVerification *
imzala_verifier_verify_stream (GInputStream               *signature,
                               GInputStream               *content,
                               guint64                     content_size,
                               ImzalaTrust                *trust,
                               ImzalaVerifierProgressFunc  progress,
                               gpointer                    progress_data,
                               GCancellable               *cancellable,
                               GError                    **error)
{
  Reader reader = { signature, 0, progress, progress_data, 0, content_size, cancellable };
  Reader content_reader = { content, 0, progress, progress_data, 0, content_size, cancellable };
  g_autofree guint8 *head = g_malloc (HEAD_SIZE);
  g_autoptr(GByteArray) der = NULL;
  g_autoptr(GPtrArray) mds = NULL;
  g_autoptr(GHashTable) digests = NULL;
  g_autoptr(GHashTable) given = NULL;
  Hashes hashes = { 0 };
  CMS_ContentInfo *cms = NULL;
  ImzalaVerification *result = NULL;
  gboolean seekable;
  Layout layout;
  gsize head_size = 0;
  gsize in_head;

  g_return_val_if_fail (G_IS_INPUT_STREAM (signature), NULL);
  g_return_val_if_fail (content == NULL || G_IS_INPUT_STREAM (content), NULL);
  g_return_val_if_fail (IMZALA_IS_TRUST (trust), NULL);

  ERR_clear_error ();
  if (!read_some (&reader, head, HEAD_SIZE, &head_size, error))
    return NULL;

  if (head_size < HEAD_SIZE || !find_content (head, head_size, &layout) || !layout.attached)
    {
      /* Small, detached, BER or PEM: the signature itself in memory (a
       * detached one is small whatever its content). */
      der = g_byte_array_new ();
      g_byte_array_append (der, head, (guint) head_size);
      g_clear_pointer (&head, g_free);
      if (head_size == HEAD_SIZE && !read_rest (&reader, der, VERIFIER_MAX_CMS_SIZE, error))
        return NULL;
      return verify_in_memory (g_steal_pointer (&der), content != NULL ? &content_reader : NULL,
                               trust, cancellable, error);
    }

  /* Attached DER: the signature without its eContent, then the eContent's
   * hashes. */
  seekable = G_IS_SEEKABLE (signature) && g_seekable_can_seek (G_SEEKABLE (signature));
  reader.total = layout.octets_length;
  der = g_byte_array_new ();
  append_detached_front (der, head, &layout);
  in_head = (gsize) MIN ((guint64) head_size, layout.octets_offset + layout.octets_length);

  if (!seekable)
    {
      /* One pass: every accepted hash while the content goes by. */
      mds = all_accepted_mds ();
      if (!hashes_init (&hashes, mds, error))
        goto out;
      hashes_update (&hashes, &reader, head + layout.octets_offset, in_head - layout.octets_offset);
      if (in_head < layout.octets_offset + layout.octets_length
          && !hash_stream (&hashes, &reader,
                           layout.octets_offset + layout.octets_length - reader.consumed, error))
        goto out;
      digests = hashes_finish (&hashes);
    }
  else if (reader.consumed < tlv_end (&layout.econtent))
    {
      GError *local = NULL;

      if (!g_seekable_seek (G_SEEKABLE (signature), (goffset) tlv_end (&layout.econtent), G_SEEK_SET,
                            cancellable, &local))
        {
          read_error (error, local);
          goto out;
        }
      reader.consumed = tlv_end (&layout.econtent);
    }
  if (reader.consumed < tlv_end (&layout.econtent))
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID,
                           _("The signature file is cut short."));
      goto out;
    }
  /* What follows the content (certificates, signers) in the head, then in
   * the stream. */
  if (head_size > tlv_end (&layout.econtent))
    g_byte_array_append (der, head + tlv_end (&layout.econtent),
                         (guint) (head_size - tlv_end (&layout.econtent)));
  if (!read_rest (&reader, der, VERIFIER_MAX_CMS_SIZE, error))
    goto out;
  if (reader.consumed != layout.total)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID,
                           _("The signature file is not a signature İmzala can read."));
      goto out;
    }
  cms = parse_exact (der);
  g_clear_pointer (&der, g_byte_array_unref);
  if (!verifier_check_cms_kind (cms, error))
    goto out;

  if (seekable)
    {
      GError *local = NULL;

      /* Second pass: only the hashes the signature needs. */
      mds = verifier_content_mds (cms);
      if (content != NULL)
        ensure_sha256 (mds);
      if (!hashes_init (&hashes, mds, error))
        goto out;
      hashes_update (&hashes, &reader, head + layout.octets_offset, in_head - layout.octets_offset);
      if (in_head < layout.octets_offset + layout.octets_length)
        {
          if (!g_seekable_seek (G_SEEKABLE (signature), (goffset) in_head, G_SEEK_SET, cancellable,
                                &local))
            {
              read_error (error, local);
              goto out;
            }
          reader.consumed = in_head;
          if (!hash_stream (&hashes, &reader, layout.octets_offset + layout.octets_length - in_head,
                            error))
            goto out;
        }
      digests = hashes_finish (&hashes);
    }

  if (content != NULL)
    {
      content_reader.total = layout.octets_length;
      given = digests_of_stream (mds, &content_reader, error);
      if (given == NULL)
        goto out;
      if (!digests_equal (digests, given))
        {
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH,
                               _("The content does not match the one that was signed."));
          goto out;
        }
    }
  result = verifier_verify_cms (cms, digests, TRUE, trust, cancellable);
  result->content_length = layout.octets_length;

out:
  hashes_clear (&hashes);
  CMS_ContentInfo_free (cms);
  ERR_clear_error ();
  return result;
}

/* ---- In a thread, for the window ---- */

typedef struct
{
  GFile                      *signature;
  GFile                      *content;
  ImzalaTrust                *trust;
  ImzalaVerifierProgressFunc  progress;
  gpointer                    progress_data;
  GDestroyNotify              progress_data_free;
  GMainContext               *context;   /* the caller's */
  guint                       percent;   /* the last one reported, +1 */
} FileData;

static void
file_data_free (FileData *data)
{
  g_clear_object (&data->signature);
  g_clear_object (&data->content);
  g_clear_object (&data->trust);
  if (data->progress_data_free != NULL)
    data->progress_data_free (data->progress_data);
  g_main_context_unref (data->context);
  g_free (data);
}

typedef struct
{
  GTask   *task;
  guint64  done;
  guint64  total;
} Progress;

static gboolean
progress_idle_cb (gpointer user_data)
{
  Progress *progress = user_data;
  FileData *data = g_task_get_task_data (progress->task);

  data->progress (progress->done, progress->total, data->progress_data);
  return G_SOURCE_REMOVE;
}

static void
progress_free (Progress *progress)
{
  g_object_unref (progress->task);
  g_free (progress);
}

/* On the worker thread: at most once per percent, to the caller's
 * context. */
static void
file_progress_cb (guint64 done, guint64 total, gpointer user_data)
{
  GTask *task = user_data;
  FileData *data = g_task_get_task_data (task);
  guint percent = total > 0 ? (guint) MIN (100, done * 100 / total) : 0;
  Progress *progress;

  if (percent + 1 == data->percent && done < total)
    return;
  data->percent = percent + 1;
  progress = g_new0 (Progress, 1);
  progress->task = g_object_ref (task);
  progress->done = done;
  progress->total = total;
  /* Always through an idle source, never g_main_context_invoke(): that
   * runs the handler here, in the worker, whenever the caller's context
   * happens to be free (between two iterations of a loop that waits), and
   * the handler updates widgets. */
  {
    g_autoptr(GSource) source = g_idle_source_new ();

    g_source_set_priority (source, G_PRIORITY_DEFAULT);
    g_source_set_callback (source, progress_idle_cb, progress, (GDestroyNotify) progress_free);
    g_source_set_static_name (source, "[imzala] verifier progress");
    g_source_attach (source, data->context);
  }
}

static guint64
file_size (GFileInputStream *stream, GCancellable *cancellable)
{
  g_autoptr(GFileInfo) info = g_file_input_stream_query_info (stream, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                                              cancellable, NULL);

  return info != NULL ? (guint64) g_file_info_get_size (info) : 0;
}

static GFileInputStream *
open_file (GFile *file, GCancellable *cancellable, GError **error)
{
  GError *local = NULL;
  GFileInputStream *stream = g_file_read (file, cancellable, &local);

  if (stream == NULL)
    {
      g_autofree char *name = g_file_get_parse_name (file);

      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, local);
      else
        {
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED, _("“%s” cannot be read: %s"), name,
                       local->message);
          g_error_free (local);
        }
    }
  return stream;
}

static void
verify_file_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  FileData *data = task_data;
  g_autoptr(GFileInputStream) signature = NULL;
  g_autoptr(GFileInputStream) content = NULL;
  GError *error = NULL;
  ImzalaVerification *result;

  signature = open_file (data->signature, cancellable, &error);
  if (signature == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (data->content != NULL)
    {
      content = open_file (data->content, cancellable, &error);
      if (content == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
    }
  result = imzala_verifier_verify_stream (G_INPUT_STREAM (signature), G_INPUT_STREAM (content),
                                          content != NULL ? file_size (content, cancellable) : 0,
                                          data->trust,
                                          data->progress != NULL ? file_progress_cb : NULL, task,
                                          cancellable, &error);
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) imzala_verification_free);
}

void
imzala_verifier_verify_file_async (GFile                      *signature,
                                   GFile                      *content,
                                   ImzalaTrust                *trust,
                                   ImzalaVerifierProgressFunc  progress,
                                   gpointer                    progress_data,
                                   GDestroyNotify              progress_data_free,
                                   GCancellable               *cancellable,
                                   GAsyncReadyCallback         callback,
                                   gpointer                    user_data)
{
  g_autoptr(GTask) task = NULL;
  FileData *data;

  g_return_if_fail (G_IS_FILE (signature));
  g_return_if_fail (content == NULL || G_IS_FILE (content));
  g_return_if_fail (IMZALA_IS_TRUST (trust));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_verifier_verify_file_async);
  data = g_new0 (FileData, 1);
  data->signature = g_object_ref (signature);
  data->content = content != NULL ? g_object_ref (content) : NULL;
  data->trust = g_object_ref (trust);
  data->progress = progress;
  data->progress_data = progress_data;
  data->progress_data_free = progress_data_free;
  data->context = g_main_context_ref_thread_default ();
  g_task_set_task_data (task, data, (GDestroyNotify) file_data_free);
  imzala_task_run_in_openssl_thread (task, verify_file_thread);
}

ImzalaVerification *
imzala_verifier_verify_file_finish (GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
