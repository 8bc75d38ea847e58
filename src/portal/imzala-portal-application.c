#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>

#include "imzala-portal-application.h"
#include "imzala-portal-security-word.h"
#include "imzala-portal-texts.h"

typedef enum
{
  FIELD_TEXT,      /* free text, 1..max characters */
  FIELD_CHOICE,    /* one of @choices */
  FIELD_DATE,      /* YYYY-MM-DD in the past */
  FIELD_EMAIL,
  FIELD_PHONE,     /* Turkish number: 10 digits after an optional 0 / +90 */
  FIELD_DIGITS,    /* exactly @max digits */
} FieldType;

typedef struct
{
  const char *name;
  const char *label;
  FieldType   type;
  gboolean    required;
  guint       max;
  const char *choices; /* "value=Label|value=Label" */
} Field;

/* In the order of the old portal's form. */
static const Field fields[] = {
  { "basvuru_turu", "Başvuru Türü", FIELD_CHOICE, TRUE, 0, "yeni=Yeni Başvuru|yenileme=Yenileme" },
  { "kart_okuyucu", "Kart Okuyucu Tipi", FIELD_CHOICE, TRUE, 0,
    "mini=Mini Kart Okuyucu|standart=Standart Kart Okuyucu|yok=Kart Okuyucu İstemiyorum" },
  { "sertifika_suresi", "Sertifika Süresi", FIELD_CHOICE, TRUE, 0, "1=1 Yıl|2=2 Yıl|3=3 Yıl" },
  { "dogum_yeri", "Doğum Yeri", FIELD_TEXT, TRUE, 60, NULL },
  { "dogum_tarihi", "Doğum Tarihi", FIELD_DATE, TRUE, 0, NULL },
  { "calistigi_birim", "Çalıştığı Birim", FIELD_TEXT, TRUE, 120, NULL },
  { "unvan", "Ünvan", FIELD_TEXT, TRUE, 80, NULL },
  { "adres", "Kurum / Birim Adresi", FIELD_TEXT, TRUE, 250, NULL },
  { "il", "İl", FIELD_TEXT, TRUE, 40, NULL },
  { "ilce", "İlçe", FIELD_TEXT, TRUE, 40, NULL },
  { "posta_kodu", "Posta Kodu", FIELD_DIGITS, TRUE, 5, NULL },
  { "eposta", "E-posta", FIELD_EMAIL, TRUE, 120, NULL },
  { "is_telefonu", "İş Telefonu", FIELD_PHONE, TRUE, 0, NULL },
  { "dahili", "Dahili", FIELD_TEXT, FALSE, 8, NULL },
  { "cep_telefonu", "Cep Telefonu", FIELD_PHONE, TRUE, 0, NULL },
  { "operator", "Mobil Operatör Tipi", FIELD_CHOICE, TRUE, 0,
    "turkcell=TURKCELL|vodafone=VODAFONE|turk_telekom=TURK TELEKOM" },
  { "ev_telefonu", "Ev Telefonu", FIELD_PHONE, FALSE, 0, NULL },
  { "bilgi_kanali", "Bilgi Kanalı", FIELD_CHOICE, TRUE, 0,
    "eposta=E-posta|sms=SMS|ikisi=Her ikisi (E-posta+SMS)" },
};

static char *
split_name (const char *full, gboolean surname)
{
  const char *space = strrchr (full, ' ');

  if (space == NULL)
    return g_strdup (surname ? "" : full);
  return surname ? g_strdup (space + 1) : g_strndup (full, space - full);
}

JsonNode *
imzala_portal_application_prefill (const ImzalaPortalPerson *person)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *first = split_name (person->name, FALSE);
  g_autofree char *last = split_name (person->name, TRUE);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "kimlik_no");
  json_builder_add_string_value (builder, person->tckn);
  json_builder_set_member_name (builder, "ad");
  json_builder_add_string_value (builder, first);
  json_builder_set_member_name (builder, "soyad");
  json_builder_add_string_value (builder, last);
  json_builder_set_member_name (builder, "kurum_adi");
  json_builder_add_string_value (builder, person->institution);
  json_builder_set_member_name (builder, "kurum_sicil_no");
  json_builder_add_string_value (builder, person->sicil_no);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static const char *
choice_label (const Field *field, const char *value)
{
  static char label[128];
  g_auto(GStrv) options = g_strsplit (field->choices, "|", -1);

  for (guint i = 0; options[i] != NULL; i++)
    {
      const char *eq = strchr (options[i], '=');

      if (eq != NULL && strncmp (options[i], value, eq - options[i]) == 0
          && value[eq - options[i]] == '\0')
        {
          g_strlcpy (label, eq + 1, sizeof label);
          return label;
        }
    }
  return NULL;
}

static gboolean
all_digits (const char *text, gsize length)
{
  if (strlen (text) != length)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isdigit (text[i]))
      return FALSE;
  return TRUE;
}

/* A plain address: ASCII local part of letters, digits and ._%+-, a
 * domain of dot-separated labels (letters, digits, inner hyphens) ending
 * in a label of at least two letters. Nothing else, so that no e-mail
 * carries a space, a quote or anything a line of the form could hide in. */
static gboolean
is_email (const char *text)
{
  const char *at = strchr (text, '@');
  const char *last_dot;
  gsize label = 0;

  if (at == NULL || at == text || at - text > 64)
    return FALSE;
  for (const char *p = text; p < at; p++)
    if (!g_ascii_isalnum (*p) && strchr ("._%+-", *p) == NULL)
      return FALSE;
  if (text[0] == '.' || at[-1] == '.')
    return FALSE;
  last_dot = strrchr (at, '.');
  if (last_dot == NULL || strlen (last_dot + 1) < 2)
    return FALSE;
  for (const char *p = last_dot + 1; *p != '\0'; p++)
    if (!g_ascii_isalpha (*p))
      return FALSE;
  for (const char *p = at + 1; ; p++)
    {
      if (*p == '.' || *p == '\0')
        {
          if (label == 0 || p[-1] == '-')
            return FALSE;
          if (*p == '\0')
            break;
          label = 0;
          continue;
        }
      if (!g_ascii_isalnum (*p) && !(*p == '-' && label > 0))
        return FALSE;
      label++;
    }
  return TRUE;
}

/* Normalises a phone number to "0XXXXXXXXXX" or returns NULL. */
static char *
normalise_phone (const char *text)
{
  GString *digits = g_string_new (NULL);
  const char *rest;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p))
        g_string_append_c (digits, *p);
      else if (!strchr (" ()-+", *p))
        return g_string_free (digits, TRUE), NULL;
    }
  rest = digits->str;
  if (g_str_has_prefix (rest, "90") && strlen (rest) == 12)
    rest += 2;
  else if (rest[0] == '0' && strlen (rest) == 11)
    rest += 1;
  if (!all_digits (rest, 10) || rest[0] == '0')
    {
      g_string_free (digits, TRUE);
      return NULL;
    }
  {
    char *result = g_strconcat ("0", rest, NULL);
    g_string_free (digits, TRUE);
    return result;
  }
}

static const char *
check_field (const Field *field, const char *value, gint64 now, char **normal)
{
  *normal = NULL;

  if (value == NULL || *value == '\0')
    return field->required ? "Bu alanın doldurulması zorunludur." : NULL;
  if (!g_utf8_validate (value, -1, NULL))
    return "Geçersiz karakter.";
  /* Before the type's own rules: a line break or a bidi override in any
   * field would let the applicant add or disguise a line of the form they
   * sign (an e-mail "x@y.tr" + LF + "Kurum Adı: SAHTE KURUM"). */
  if (!imzala_portal_texts_is_one_line (value))
    return "Bu alanda satır sonu, denetim veya biçim karakteri (örneğin yön değiştiren "
           "işaretler) kullanılamaz.";

  switch (field->type)
    {
    case FIELD_TEXT:
      if (g_utf8_strlen (value, -1) > (glong) field->max)
        return "Bu alan çok uzun.";
      break;
    case FIELD_CHOICE:
      if (choice_label (field, value) == NULL)
        return "Lütfen listeden bir seçim yapınız.";
      break;
    case FIELD_DATE:
      {
        g_autofree char *iso = g_strconcat (value, "T00:00:00Z", NULL);
        g_autoptr(GDateTime) date = strlen (value) == 10 ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;

        if (date == NULL)
          return "Tarihi GG.AA.YYYY biçiminde giriniz.";
        if (g_date_time_to_unix (date) > now - (gint64) 18 * 365 * 24 * 3600
            || g_date_time_get_year (date) < 1900)
          return "Doğum tarihi geçerli değil.";
      }
      break;
    case FIELD_EMAIL:
      if (strlen (value) > field->max || !is_email (value))
        return "Geçerli bir e-posta adresi giriniz (örneğin ad.soyad@meb.gov.tr).";
      break;
    case FIELD_PHONE:
      *normal = normalise_phone (value);
      if (*normal == NULL)
        return "Telefon numarasını 0XXX XXX XX XX biçiminde giriniz.";
      break;
    case FIELD_DIGITS:
      if (!all_digits (value, field->max))
        return "Bu alan 5 haneli bir sayı olmalıdır.";
      break;
    default:
      g_assert_not_reached ();
    }
  return NULL;
}

static const char *
get_string (JsonObject *form, const char *name)
{
  JsonNode *node = json_object_get_member (form, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

gboolean
imzala_portal_application_validate (JsonObject               *form,
                                    const ImzalaPortalPerson *person,
                                    gint64                    now,
                                    char                    **fields_json,
                                    char                    **form_text,
                                    char                    **kind,
                                    gint64                   *production_date,
                                    JsonObject              **errors)
{
  g_autoptr(JsonObject) problems = json_object_new ();
  g_autoptr(JsonBuilder) stored = json_builder_new ();
  g_autoptr(JsonNode) prefill = imzala_portal_application_prefill (person);
  JsonObject *fixed = json_node_get_object (prefill);
  g_autoptr(GString) text = g_string_new (NULL);
  const char *word, *word_again;
  g_autofree char *word_hash = NULL;
  const char *kind_value;

  g_string_append (text,
                   "NİTELİKLİ ELEKTRONİK SERTİFİKA BAŞVURU FORMU\n\n"
                   "Aşağıda yazılı bütün bilgilerin doğru olduğunu, aksi halde doğacak bütün "
                   "zararlardan sorumlu olduğumu beyan ederim. Bu formdaki bilgilere göre şahsıma "
                   "bir nitelikli elektronik sertifika hazırlanmasını talep ederim.\n\n");
  g_string_append_printf (text, "Kimlik No: %s\nAdı: %s\nSoyadı: %s\nKurum Adı: %s\nKurum Sicil No: %s\n",
                          json_object_get_string_member (fixed, "kimlik_no"),
                          json_object_get_string_member (fixed, "ad"),
                          json_object_get_string_member (fixed, "soyad"),
                          person->institution, person->sicil_no);

  json_builder_begin_object (stored);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      const Field *field = &fields[i];
      const char *value = get_string (form, field->name);
      g_autofree char *normal = NULL;
      g_autofree char *trimmed = value != NULL ? g_strstrip (g_strdup (value)) : NULL;
      const char *problem = check_field (field, trimmed, now, &normal);
      const char *shown;

      if (problem != NULL)
        {
          json_object_set_string_member (problems, field->name, problem);
          continue;
        }
      if (trimmed == NULL || *trimmed == '\0')
        continue;
      shown = normal != NULL ? normal : trimmed;
      json_builder_set_member_name (stored, field->name);
      json_builder_add_string_value (stored, shown);
      if (field->type == FIELD_CHOICE)
        shown = choice_label (field, trimmed);
      g_string_append_printf (text, "%s: %s\n", field->label, shown);
    }

  word = get_string (form, "guvenlik_sozcugu");
  word_again = get_string (form, "guvenlik_sozcugu_tekrar");
  if (word == NULL || !g_utf8_validate (word, -1, NULL) || g_utf8_strlen (word, -1) < 4
      || g_utf8_strlen (word, -1) > 30)
    json_object_set_string_member (problems, "guvenlik_sozcugu",
                                   "Güvenlik sözcüğü 4 ile 30 karakter arasında olmalıdır.");
  else if (!imzala_portal_texts_is_one_line (word))
    json_object_set_string_member (problems, "guvenlik_sozcugu",
                                   "Güvenlik sözcüğünde satır sonu, denetim veya biçim karakteri "
                                   "kullanılamaz.");
  else if (g_strcmp0 (word, word_again) != 0)
    json_object_set_string_member (problems, "guvenlik_sozcugu_tekrar",
                                   "Güvenlik sözcükleri aynı değil.");
  else
    {
      /* The word itself is never stored or signed; only its hash is kept. */
      word_hash = imzala_portal_security_word_hash (word);
      json_builder_set_member_name (stored, "guvenlik_sozcugu_hash");
      json_builder_add_string_value (stored, word_hash);
    }

  kind_value = get_string (form, "basvuru_turu");
  if (g_strcmp0 (kind_value, "yenileme") == 0 && person->certificate_not_after == 0)
    json_object_set_string_member (problems, "basvuru_turu",
                                   "Yenileme için geçerli bir sertifikanız bulunmuyor.");
  json_builder_end_object (stored);

  if (json_object_get_size (problems) > 0)
    {
      *errors = g_steal_pointer (&problems);
      return FALSE;
    }

  {
    g_autoptr(JsonNode) root = json_builder_get_root (stored);
    *fields_json = json_to_string (root, FALSE);
  }
  *kind = g_strdup (kind_value);
  /* A renewal is produced from two months before the current certificate
   * expires; an earlier application is kept until then. */
  if (g_strcmp0 (kind_value, "yenileme") == 0)
    *production_date = MAX (now, person->certificate_not_after - IMZALA_PORTAL_RENEWAL_WINDOW);
  else
    *production_date = now;
  g_string_truncate (text, text->len - 1);
  *form_text = g_string_free (g_steal_pointer (&text), FALSE);
  return TRUE;
}

char *
imzala_portal_application_done_message (gint64 production_date, gint64 now)
{
  g_autoptr(GString) message = g_string_new (NULL);

  /* The guide's sentence, whatever the method: the old portal showed it
   * after an e-signed application as well. */
  g_string_append (message, "Başvuru formu e-onaylama işlemi başarıyla tamamlandı. "
                            "Başvuru formunuz sistemimize ulaştı.");
  /* The same test as the state change (production_date > now: 'waiting'),
   * so the sentence is there exactly when the application waits. */
  if (production_date > now)
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc (production_date);
      g_autofree char *date = g_date_time_format (when, "%d.%m.%Y");

      g_string_append_printf (message,
                              " Yenileme başvurunuz, sertifikanızın bitiş tarihine 2 ay kalana "
                              "kadar (%s) sistemimizde bekletilecektir.", date);
    }
  return g_string_free (g_steal_pointer (&message), FALSE);
}
