/* imzala-der.c: see imzala-der-private.h. */
#include "config.h"

#include <string.h>
/* pem.h first: cms.h declares PEM_read_bio_CMS() with its macros. */
#include <openssl/pem.h>

#include "imzala-der-private.h"

gboolean
imzala_der_is_pem (const guint8 *data, gsize size)
{
  gsize start = 0;

  while (start < size && g_ascii_isspace (data[start]))
    start++;
  return size - start >= 10 && memcmp (data + start, "-----BEGIN", 10) == 0;
}

CMS_ContentInfo *
imzala_der_read_cms (const guint8 *data, gsize size)
{
  CMS_ContentInfo *cms = NULL;

  if (size > G_MAXINT)
    return NULL;
  if (imzala_der_is_pem (data, size))
    {
      BIO *bio = BIO_new_mem_buf (data, (int) size);

      if (bio != NULL)
        cms = PEM_read_bio_CMS (bio, NULL, NULL, NULL);
      BIO_free (bio);
    }
  else
    {
      const unsigned char *p = data;

      cms = d2i_CMS_ContentInfo (NULL, &p, (long) size);
      if (cms != NULL && p != data + size)
        g_clear_pointer (&cms, CMS_ContentInfo_free);
    }
  return cms;
}

guint64
imzala_der_header_size (guint64 length)
{
  guint64 size = 2;

  if (length >= 0x80)
    for (guint64 rest = length; rest > 0; rest >>= 8)
      size++;
  return size;
}

void
imzala_der_append_header (GByteArray *out, guint8 identifier, guint64 length)
{
  guint8 header[2 + sizeof (guint64)];
  guint n = 0;

  header[n++] = identifier;
  if (length < 0x80)
    header[n++] = (guint8) length;
  else
    {
      guint octets = 0;

      for (guint64 rest = length; rest > 0; rest >>= 8)
        octets++;
      header[n++] = (guint8) (0x80 | octets);
      for (guint i = octets; i > 0; i--)
        header[n++] = (guint8) (length >> (8 * (i - 1)));
    }
  g_byte_array_append (out, header, n);
}
