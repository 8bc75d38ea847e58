/* tls-handshake.c: for scale in tools/bench's portal rows. It does N TLS
 * 1.3 handshakes in process between an OpenSSL client and an OpenSSL server
 * that holds the portal's own certificate chain and key, over a memory BIO
 * pair, and prints the server's CPU time per handshake in milliseconds: the
 * handshake's cryptography and state, with no socket, no thread, no GLib and
 * no HTTP. It is the least any TLS layer on the portal could cost per
 * connection, whichever library it used. Built by tools/bench with cc and
 * pkg-config, never by meson.
 *
 * Both sides use OpenSSL's default groups (X25519 first) and the server
 * sends no session ticket, as a new imzala-cli process could not use one.
 *
 *   tls-handshake CHAIN.pem KEY.pem N */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static double
thread_cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Moves what one side wrote into its end of the pair to the other's. */
static void
carry (BIO *from, BIO *to)
{
  char buffer[16384];
  int n;

  while ((n = BIO_read (from, buffer, sizeof buffer)) > 0)
    BIO_write (to, buffer, n);
}

int
main (int argc, char **argv)
{
  SSL_CTX *server_ctx, *client_ctx;
  double spent = 0;
  int n;

  if (argc != 4)
    {
      fprintf (stderr, "usage: tls-handshake CHAIN.pem KEY.pem N\n");
      return 2;
    }
  n = atoi (argv[3]);
  server_ctx = SSL_CTX_new (TLS_server_method ());
  client_ctx = SSL_CTX_new (TLS_client_method ());
  if (SSL_CTX_use_certificate_chain_file (server_ctx, argv[1]) != 1
      || SSL_CTX_use_PrivateKey_file (server_ctx, argv[2], SSL_FILETYPE_PEM) != 1)
    {
      fprintf (stderr, "tls-handshake: cannot read %s or %s\n", argv[1], argv[2]);
      return 1;
    }
  SSL_CTX_set_min_proto_version (server_ctx, TLS1_3_VERSION);
  SSL_CTX_set_num_tickets (server_ctx, 0);
  SSL_CTX_set_session_cache_mode (server_ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_session_cache_mode (client_ctx, SSL_SESS_CACHE_OFF);

  for (int i = 0; i < n; i++)
    {
      SSL *server, *client;
      BIO *server_bio, *server_net, *client_bio, *client_net;
      int server_done = 0, client_done = 0;
      double start;

      BIO_new_bio_pair (&server_bio, 0, &server_net, 0);
      BIO_new_bio_pair (&client_bio, 0, &client_net, 0);
      client = SSL_new (client_ctx);
      SSL_set_bio (client, client_bio, client_bio);
      SSL_set_connect_state (client);

      start = thread_cpu_ms ();
      server = SSL_new (server_ctx);
      SSL_set_bio (server, server_bio, server_bio);
      SSL_set_accept_state (server);
      spent += thread_cpu_ms () - start;

      for (int round = 0; round < 8 && !(server_done && client_done); round++)
        {
          if (!client_done)
            client_done = SSL_do_handshake (client) == 1;
          carry (client_net, server_net);
          if (!server_done)
            {
              start = thread_cpu_ms ();
              server_done = SSL_do_handshake (server) == 1;
              spent += thread_cpu_ms () - start;
            }
          carry (server_net, client_net);
        }
      if (!server_done || !client_done)
        {
          fprintf (stderr, "tls-handshake: the handshake failed\n");
          ERR_print_errors_fp (stderr);
          return 1;
        }

      start = thread_cpu_ms ();
      SSL_free (server);
      spent += thread_cpu_ms () - start;
      SSL_free (client);
      BIO_free (server_net);
      BIO_free (client_net);
    }
  printf ("%.3f ms per handshake\n", spent / n);
  SSL_CTX_free (server_ctx);
  SSL_CTX_free (client_ctx);
  return 0;
}
