/* cms-verify-floor.c: the anchor of tools/bench's portal CPU row. It
 * verifies one CMS signature (DER) against a CA file N times in process with
 * CMS_verify, the least work a portal must do per submission, and prints the
 * CPU time per verification in milliseconds. The signature carries its
 * content, as the portal's do. Built by tools/bench with cc and pkg-config,
 * never by meson.
 *
 * With EVICT_MB, every other verification comes after the process has
 * written and read that many MiB of memory of its own (not timed): the
 * caches then hold none of the last verification's code and data, as in a
 * server that did other work between two submissions. It prints two
 * figures, the verifications without and with the eviction, taken in turn
 * so that the machine's load moves both alike; tools/bench prints them for
 * scale.
 *
 *   cms-verify-floor SIGNATURE.der CA.pem N [EVICT_MB] */
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

/* Writes, then reads, every cache line of @buffer (volatile: neither is
 * optimized away). */
static void
evict_caches (volatile unsigned char *buffer, size_t size)
{
  for (size_t j = 0; j < size; j += 64)
    buffer[j] = (unsigned char) j;
  for (size_t j = 0; j < size; j += 64)
    (void) buffer[j];
}

int
main (int argc, char **argv)
{
  X509_STORE *store;
  BIO *in;
  int n;
  double spent[2] = { 0, 0 };
  size_t evict = 0;
  volatile unsigned char *buffer = NULL;

  if (argc != 4 && argc != 5)
    {
      fprintf (stderr, "usage: cms-verify-floor SIGNATURE.der CA.pem N [EVICT_MB]\n");
      return 2;
    }
  n = atoi (argv[3]);
  if (argc == 5)
    {
      evict = (size_t) atoi (argv[4]) << 20;
      buffer = malloc (evict);
      if (buffer == NULL)
        return 1;
    }
  store = X509_STORE_new ();
  if (X509_STORE_load_file (store, argv[2]) != 1)
    {
      fprintf (stderr, "cms-verify-floor: cannot read %s\n", argv[2]);
      return 1;
    }

  for (int i = 0; i < n; i++)
    {
      CMS_ContentInfo *cms;
      int cold = evict > 0 && i % 2 == 1;
      double start;

      if (cold)
        evict_caches (buffer, evict);
      start = cpu_ms ();

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
      spent[cold] += cpu_ms () - start;
    }
  if (evict > 0)
    printf ("%.3f %.3f\n", spent[0] / ((n + 1) / 2), spent[1] / (n / 2));
  else
    printf ("%.3f\n", spent[0] / n);
  X509_STORE_free (store);
  return 0;
}
