/* imzala-der.c: see imzala-der-private.h. */
#include "config.h"

#include "imzala-der-private.h"

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
