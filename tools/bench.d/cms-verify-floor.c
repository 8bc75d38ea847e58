/* cms-verify-floor.c: the anchor of tools/bench's portal CPU row. It
 * verifies one CMS signature (DER) against a CA file N times in process with
 * CMS_verify, the least work a portal must do per submission, and prints the
 * CPU time per verification in milliseconds. The signature carries its
 * content, as the portal's do. Built by tools/bench with cc and pkg-config,
 * never by meson.
 *
 *   cms-verify-floor SIGNATURE.der CA.pem N */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static double
cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main (int argc, char **argv)
{
  X509_STORE *store;
  BIO *in;
  int n;
  double start;

  if (argc != 4)
    {
      fprintf (stderr, "usage: cms-verify-floor SIGNATURE.der CA.pem N\n");
      return 2;
    }
  n = atoi (argv[3]);
  store = X509_STORE_new ();
  if (X509_STORE_load_file (store, argv[2]) != 1)
    {
      fprintf (stderr, "cms-verify-floor: cannot read %s\n", argv[2]);
      return 1;
    }

  start = cpu_ms ();
  for (int i = 0; i < n; i++)
    {
      CMS_ContentInfo *cms;

      /* Parsing the signature is part of each submission, as on the portal. */
      in = BIO_new_file (argv[1], "rb");
      cms = d2i_CMS_bio (in, NULL);
      if (cms == NULL || CMS_verify (cms, NULL, store, NULL, NULL, CMS_BINARY) != 1)
        {
          fprintf (stderr, "cms-verify-floor: the signature does not verify\n");
          return 1;
        }
      CMS_ContentInfo_free (cms);
      BIO_free (in);
    }
  printf ("%.3f\n", (cpu_ms () - start) / n);
  X509_STORE_free (store);
  return 0;
}
