#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>

#include "imzala-portal-code.h"
#include "imzala-portal-texts.h"

gboolean
imzala_portal_texts_is_one_line (const char *text)
{
  if (text == NULL || !g_utf8_validate (text, -1, NULL))
    return FALSE;
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    switch (g_unichar_type (g_utf8_get_char (p)))
      {
      /* Cc (NUL to US, DEL, the C1 controls: ESC, CR, LF, NEL among them),
       * Cf (bidi overrides and isolates, zero-width characters, the BOM,
       * soft hyphens), Zl and Zp (U+2028, U+2029): each can make a text
       * look other than it is, or add a line to a signed form. */
      case G_UNICODE_CONTROL:
      case G_UNICODE_FORMAT:
      case G_UNICODE_LINE_SEPARATOR:
      case G_UNICODE_PARAGRAPH_SEPARATOR:
      case G_UNICODE_SURROGATE:
      case G_UNICODE_UNASSIGNED:
      case G_UNICODE_PRIVATE_USE:
        return FALSE;
      default:
        break;
      }
  return TRUE;
}

char *
imzala_portal_texts_serial_tag (const char *serial)
{
  g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, serial, -1);

  return g_strdup_printf ("serial-sha256:%.16s", digest);
}

char *
imzala_portal_texts_format_time (gint64 unix_time)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (unix_time);

  return g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ");
}

char *
imzala_portal_texts_tckn_hint (const char *tckn)
{
  return g_strdup_printf ("%.3s******%s", tckn, tckn + 9);
}

char *
imzala_portal_texts_reference_line (const char *portal,
                                    const char *code,
                                    gint64      created_at)
{
  g_autofree char *display = imzala_portal_format_code (code);
  g_autofree char *created = imzala_portal_texts_format_time (created_at);

  return g_strdup_printf ("\n\nİşlem: %s / %s / %s", portal, display, created);
}

GBytes *
imzala_portal_texts_bind (const char *body,
                          const char *portal,
                          const char *code,
                          gint64      created_at)
{
  g_autofree char *line = imzala_portal_texts_reference_line (portal, code, created_at);
  char *text = g_strconcat (body, line, NULL);

  return g_bytes_new_take (text, strlen (text));
}

const char *
imzala_portal_texts_consent (gboolean accept)
{
  if (accept)
    return "Kamu SM sistemleri üzerinden güvenilir bir şekilde elektronik onayının alınması "
           "kaydıyla bundan sonra yapacağım NES başvurularımın, imzalı başvuru formu göndermeye "
           "gerek kalmaksızın işleme alınmasını KABUL EDİYORUM.";
  return "Kamu SM sistemleri üzerinden güvenilir bir şekilde elektronik onayının alınması "
         "kaydıyla bundan sonra yapacağım NES başvurularımın, imzalı başvuru formu göndermeye "
         "gerek kalmaksızın işleme alınmasını KABUL ETMİYORUM.";
}

char *
imzala_portal_texts_undertaking (const char *name, const char *tckn)
{
  /* The demo portal's own wording of the certificate holder's undertaking:
   * the duties a qualified certificate holder takes on under Turkish
   * e-signature law, in plain sentences. */
  return g_strdup_printf (
    "SERTİFİKA SAHİBİ TAAHHÜTNAMESİ\n"
    "\n"
    "Ben, %s (T.C. Kimlik No: %s), adıma üretilecek nitelikli elektronik sertifika için:\n"
    "\n"
    "1. Başvuru formunda verdiğim bilgilerin doğru ve eksiksiz olduğunu,\n"
    "2. İmza oluşturma verimi ve PIN kodumu kimseyle paylaşmayacağımı, akıllı kartımı "
    "başkasına kullandırmayacağımı,\n"
    "3. Kartımın kaybolması, çalınması veya PIN kodumun başkalarınca öğrenildiğinden şüphelenmem "
    "hâlinde sertifikamı derhal iptal ettireceğimi,\n"
    "4. Sertifikamı yalnızca sertifikada belirtilen kullanım amaçları ve sınırlar içinde "
    "kullanacağımı,\n"
    "5. Elektronik imzamın elle atılan imzamla aynı hukuki sonucu doğurduğunu bildiğimi\n"
    "\n"
    "kabul ve taahhüt ederim.",
    name, tckn);
}
