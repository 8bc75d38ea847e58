/* bare-window.c: the anchor of tools/bench's start-up rows. A bare
 * GtkApplicationWindow (or, built with -DBARE_ADW, a bare
 * AdwApplicationWindow with a header bar, as İmzala's window has) that ends
 * the process when its first frame is painted, the way İmzala does with
 * IMZALA_EXIT_ON_FIRST_FRAME=1, so that both are timed from process start
 * to the same event. Built by tools/bench with cc and pkg-config, never by
 * meson. */
#include <unistd.h>
#include <gtk/gtk.h>
#ifdef BARE_ADW
#include <adwaita.h>
#endif

static void
after_paint_cb (GdkFrameClock *clock,
                gpointer       user_data)
{
  /* _exit: the process is timed up to its first frame, not its tear-down
   * (İmzala does the same). */
  _exit (0);
}

static void
map_cb (GtkWidget *window,
        gpointer   user_data)
{
  g_signal_connect (gtk_widget_get_frame_clock (window), "after-paint",
                    G_CALLBACK (after_paint_cb), NULL);
}

static void
activate_cb (GApplication *app,
             gpointer      user_data)
{
  GtkWidget *window;

#ifdef BARE_ADW
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

  window = adw_application_window_new (GTK_APPLICATION (app));
  gtk_box_append (GTK_BOX (box), adw_header_bar_new ());
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (window), box);
#else
  window = gtk_application_window_new (GTK_APPLICATION (app));
#endif
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 780);
  g_signal_connect (window, "map", G_CALLBACK (map_cb), NULL);
  gtk_window_present (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  g_autoptr(GApplication) app = NULL;

#ifdef BARE_ADW
  app = G_APPLICATION (adw_application_new ("io.github.imzala.Bench.BareAdw", G_APPLICATION_DEFAULT_FLAGS));
#else
  app = G_APPLICATION (gtk_application_new ("io.github.imzala.Bench.BareGtk", G_APPLICATION_DEFAULT_FLAGS));
#endif
  g_signal_connect (app, "activate", G_CALLBACK (activate_cb), NULL);
  return g_application_run (app, argc, argv);
}
