/* make-symbolic-png.c: renders a one-colour symbolic SVG icon into GTK's
 * ".symbolic.png" form, for src/gui/icons (issue 12). GTK recolours such a
 * PNG as it recolours a symbolic SVG (the red, green and blue channels say
 * how much of the success, warning and error colours a pixel has, the rest
 * is the foreground colour), but it loads it without librsvg: a symbolic
 * SVG in the first frame made the window load librsvg (11 MB) and render
 * the icon three times. Every pixel of a one-colour icon is foreground:
 * black, with the SVG's coverage as alpha.
 *
 * Built by hand with cc and pkg-config, never by meson (the PNGs are in the
 * tree, so building İmzala needs no SVG loader):
 *
 *   cc -o make-symbolic-png tools/make-symbolic-png.c $(pkg-config --cflags --libs gdk-pixbuf-2.0)
 *   ./make-symbolic-png ICON.svg 128 128x128/status/NAME.symbolic.png
 */
#include <stdlib.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) loaded = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  guchar *pixels;
  int size, stride;

  if (argc != 4 || (size = atoi (argv[2])) <= 0)
    {
      g_printerr ("usage: %s ICON.svg SIZE OUTPUT.symbolic.png\n", argv[0]);
      return 2;
    }
  loaded = gdk_pixbuf_new_from_file_at_size (argv[1], size, size, &error);
  if (loaded == NULL)
    {
      g_printerr ("%s: %s\n", argv[1], error->message);
      return 1;
    }
  pixbuf = gdk_pixbuf_add_alpha (loaded, FALSE, 0, 0, 0);
  pixels = gdk_pixbuf_get_pixels (pixbuf);
  stride = gdk_pixbuf_get_rowstride (pixbuf);
  for (int y = 0; y < gdk_pixbuf_get_height (pixbuf); y++)
    for (int x = 0; x < gdk_pixbuf_get_width (pixbuf); x++)
      {
        guchar *p = pixels + y * stride + x * 4;

        p[0] = p[1] = p[2] = 0;
      }
  if (!gdk_pixbuf_save (pixbuf, argv[3], "png", &error, "compression", "9", NULL))
    {
      g_printerr ("%s: %s\n", argv[3], error->message);
      return 1;
    }
  return 0;
}
