#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "imzala-error.h"
#include "imzala-tckn.h"
#include "imzala-portal-enrol.h"
#include "imzala-portal-pki.h"
#include "imzala-portal-texts.h"
#include "imzala-portal-security-word.h"

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"

/* Runs a tool with SOFTHSM2_CONF pointing at the card; returns its stdout. */
static char *
run_tool (const char *softhsm_conf, GError **error, const char *first, ...)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                                       | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  va_list args;

  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_setenv (launcher, "SOFTHSM2_CONF", softhsm_conf, TRUE);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, error);
  if (process == NULL)
    return NULL;
  if (!g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, error))
    return NULL;
  if (!g_subprocess_get_successful (process))
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED, "%s failed: %s", first,
                   err != NULL ? g_strstrip (err) : "");
      return NULL;
    }
  return g_steal_pointer (&out);
}

static gboolean
write_der (const char *path, X509 *cert, GError **error)
{
  unsigned char *der = NULL;
  int length = i2d_X509 (cert, &der);
  gboolean ok;

  if (length <= 0)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED, "Could not encode a certificate");
      return FALSE;
    }
  ok = g_file_set_contents (path, (const char *) der, length, error);
  OPENSSL_free (der);
  return ok;
}

static gboolean
write_pkcs8 (const char *path, EVP_PKEY *key, GError **error)
{
  FILE *file;
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  gboolean ok;

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Could not write %s: %s",
                   path, g_strerror (saved));
      return FALSE;
    }
  file = fdopen (fd, "w");
  /* PEM_write_PrivateKey writes PKCS#8, which softhsm2-util --import wants. */
  ok = PEM_write_PrivateKey (file, key, NULL, NULL, 0, NULL, NULL) == 1;
  ok = fclose (file) == 0 && ok;
  if (!ok)
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED, "Could not write the card key");
  return ok;
}

char *
imzala_portal_normalise_mobile (const char *text)
{
  g_autoptr(GString) digits = g_string_new (NULL);
  const char *rest;

  if (text == NULL)
    return NULL;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p))
        g_string_append_c (digits, *p);
      else if (strchr (" ()-+", *p) == NULL)
        return NULL;
    }
  rest = digits->str;
  if (g_str_has_prefix (rest, "90") && digits->len == 12)
    rest += 2;
  else if (rest[0] == '0' && digits->len == 11)
    rest += 1;
  if (strlen (rest) != 10 || rest[0] != '5')
    return NULL;
  return g_strconcat ("0", rest, NULL);
}

/* The serial SoftHSM gave the token labelled @label. */
static char *
find_serial (const char *show_slots, const char *label)
{
  g_auto(GStrv) lines = g_strsplit (show_slots, "\n", -1);
  g_autofree char *serial = NULL;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);

      if (g_str_has_prefix (line, "Serial number:"))
        {
          g_free (serial);
          serial = g_strstrip (g_strdup (line + strlen ("Serial number:")));
        }
      else if (g_str_has_prefix (line, "Label:"))
        {
          g_autofree char *value = g_strstrip (g_strdup (line + strlen ("Label:")));

          if (g_str_equal (value, label) && serial != NULL && *serial != '\0')
            return g_steal_pointer (&serial);
        }
    }
  return NULL;
}

static EVP_PKEY *
generate_key (const char *type)
{
  if (type == NULL || g_str_equal (type, "rsa2048"))
    return EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) 2048);
  if (g_str_equal (type, "p256"))
    return EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  if (g_str_equal (type, "p384"))
    return EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-384");
  return NULL;
}

char *
imzala_portal_enrol (ImzalaPortalCa              *ca,
                     ImzalaPortalStore           *store,
                     const ImzalaPortalEnrolment *enrolment,
                     GError                     **error)
{
  g_autofree char *card_dir = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *tokens = NULL;
  g_autofree char *work = NULL;
  g_autofree char *key_file = NULL;
  g_autofree char *cert_file = NULL;
  g_autofree char *ca_file = NULL;
  g_autofree char *conf_text = NULL;
  g_autofree char *label = NULL;
  g_autofree char *object_label = NULL;
  g_autofree char *ascii_name = NULL;
  g_autofree char *slots = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *out = NULL;
  g_autofree char *info = NULL;
  g_autofree char *info_file = NULL;
  g_autofree char *word_hash = NULL;
  g_autofree char *phone = NULL;
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  ImzalaPortalPerson person = { 0 };
  gboolean ok = FALSE;

  if (!imzala_tckn_is_valid (enrolment->tckn))
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   "“%s” is not a valid T.C. kimlik no (11 digits with valid check digits).",
                   enrolment->tckn);
      return NULL;
    }
  if (enrolment->name == NULL || *enrolment->name == '\0'
      || enrolment->security_word == NULL || g_utf8_strlen (enrolment->security_word, -1) < 4
      || enrolment->sicil_no == NULL || *enrolment->sicil_no == '\0')
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                           "A name, a security word of at least 4 characters and a sicil no are needed.");
      return NULL;
    }

  phone = imzala_portal_normalise_mobile (enrolment->phone != NULL ? enrolment->phone
                                                                    : IMZALA_PORTAL_DEMO_PHONE);
  if (phone == NULL)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   "“%s” is not a Turkish mobile number (05XX XXX XX XX).", enrolment->phone);
      return NULL;
    }
  /* The name, institution and sicil no go into signed texts. */
  if (!imzala_portal_texts_is_one_line (enrolment->name)
      || !imzala_portal_texts_is_one_line (enrolment->security_word)
      || !imzala_portal_texts_is_one_line (enrolment->sicil_no)
      || (enrolment->institution != NULL && !imzala_portal_texts_is_one_line (enrolment->institution)))
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                           "The name, security word, institution and sicil no must be one line "
                           "without control, format or bidi characters.");
      return NULL;
    }
  card_dir = g_canonicalize_filename (enrolment->card_dir, NULL);
  conf = g_build_filename (card_dir, "softhsm2.conf", NULL);
  tokens = g_build_filename (card_dir, "tokens", NULL);
  work = g_build_filename (card_dir, "enrol.tmp", NULL);
  if (g_mkdir_with_parents (tokens, 0700) != 0 || g_mkdir_with_parents (work, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Could not make %s: %s",
                   card_dir, g_strerror (saved));
      return NULL;
    }
  conf_text = g_strdup_printf ("directories.tokendir = %s\nobjectstore.backend = file\n"
                               "log.level = ERROR\nslots.removable = false\n", tokens);
  if (!g_file_set_contents (conf, conf_text, -1, error))
    return NULL;

  key = generate_key (enrolment->key_type);
  if (key == NULL)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED, "Unknown key type “%s”.", enrolment->key_type);
      goto out;
    }
  cert = imzala_portal_ca_issue_person (ca, key, enrolment->tckn, enrolment->name,
                                        enrolment->valid_days > 0 ? enrolment->valid_days : 730, error);
  if (cert == NULL)
    goto out;

  key_file = g_build_filename (work, "key.pem", NULL);
  cert_file = g_build_filename (work, "cert.der", NULL);
  ca_file = g_build_filename (work, "ca.der", NULL);
  if (!write_pkcs8 (key_file, key, error) || !write_der (cert_file, cert, error)
      || !write_der (ca_file, imzala_portal_ca_get_issuing_x509 (ca), error))
    goto out;

  label = g_strdup_printf ("IMZALA DEMO %s", enrolment->tckn);
  ascii_name = g_str_to_ascii (enrolment->name, "C");
  object_label = g_strdup_printf ("%s SIGN0", ascii_name);

  /* Demo PINs on the command line of local tools: acceptable only because
   * they are the fixed, published demo values of a software token. */
  if ((out = run_tool (conf, error, "softhsm2-util", "--init-token", "--free", "--label", label,
                       "--so-pin", IMZALA_PORTAL_DEMO_PUK, "--pin", IMZALA_PORTAL_DEMO_USER_PIN,
                       NULL)) == NULL)
    goto out;
  g_clear_pointer (&out, g_free);
  if ((out = run_tool (conf, error, "softhsm2-util", "--import", key_file, "--token", label,
                       "--label", object_label, "--id", "01", "--pin", IMZALA_PORTAL_DEMO_USER_PIN,
                       NULL)) == NULL)
    goto out;
  g_clear_pointer (&out, g_free);
  if ((out = run_tool (conf, error, "pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", label,
                       "--login", "--pin", IMZALA_PORTAL_DEMO_USER_PIN, "--write-object", cert_file,
                       "--type", "cert", "--id", "01", "--label", object_label, NULL)) == NULL)
    goto out;
  g_clear_pointer (&out, g_free);
  if ((out = run_tool (conf, error, "pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", label,
                       "--login", "--pin", IMZALA_PORTAL_DEMO_USER_PIN, "--write-object", ca_file,
                       "--type", "cert", "--id", "c0", "--label", "İmzala Demo NES SM", NULL)) == NULL)
    goto out;
  if ((slots = run_tool (conf, error, "softhsm2-util", "--show-slots", NULL)) == NULL)
    goto out;
  serial = find_serial (slots, label);
  if (serial == NULL)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED, "The new token “%s” was not found.", label);
      goto out;
    }

  word_hash = imzala_portal_security_word_hash (enrolment->security_word);
  person.tckn = (char *) enrolment->tckn;
  person.name = (char *) enrolment->name;
  person.security_word_hash = word_hash;
  person.institution = (char *) (enrolment->institution != NULL ? enrolment->institution : "MEB");
  person.sicil_no = (char *) enrolment->sicil_no;
  person.card_serial = serial;
  person.phone = phone;
  person.card_puk = (char *) IMZALA_PORTAL_DEMO_PUK;
  {
    int days = 0, seconds = 0;

    ASN1_TIME_diff (&days, &seconds, NULL, X509_get0_notAfter (cert));
    person.certificate_not_after = g_get_real_time () / G_USEC_PER_SEC + (gint64) days * 86400 + seconds;
  }
  if (!imzala_portal_store_put_person (store, &person, error))
    goto out;
  /* Its status is the portal's to answer (OCSP, CRL, revoke). */
  if (!imzala_portal_pki_record (store, cert, enrolment->tckn, error))
    goto out;
  {
    g_autofree char *tag = imzala_portal_texts_serial_tag (serial);

    imzala_portal_store_log (store, "enrolled", enrolment->tckn, 0, NULL, tag);
  }

  info = g_strdup_printf ("# İmzala demo card (a SoftHSM token). DEMO ONLY: the PINs are public.\n"
                          "[card %s]\nlabel=%s\nserial=%s\ntckn=%s\nname=%s\nsofthsm2-conf=%s\n"
                          "module=%s\nuser-pin=%s\npuk=%s\n\n",
                          enrolment->tckn, label, serial, enrolment->tckn, enrolment->name, conf,
                          SOFTHSM_MODULE, IMZALA_PORTAL_DEMO_USER_PIN, IMZALA_PORTAL_DEMO_PUK);
  info_file = g_build_filename (card_dir, "cards.ini", NULL);
  {
    g_autofree char *old = NULL;
    g_autofree char *all = NULL;

    g_file_get_contents (info_file, &old, NULL, NULL);
    all = g_strconcat (old != NULL ? old : "", info, NULL);
    if (!g_file_set_contents (info_file, all, -1, error))
      goto out;
  }
  ok = TRUE;

out:
  /* The private key lives on the token now and nowhere else. */
  if (key_file != NULL)
    g_unlink (key_file);
  if (cert_file != NULL)
    g_unlink (cert_file);
  if (ca_file != NULL)
    g_unlink (ca_file);
  g_rmdir (work);
  EVP_PKEY_free (key);
  X509_free (cert);
  return ok ? g_steal_pointer (&serial) : NULL;
}
