package sandboxapi

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
)

// drawnImage is an image the sandbox draws for a part nobody uploaded (a
// web flow's capture): a card-shaped document or a portrait-shaped face,
// coloured from the seed so that different parts differ, the same part is
// the same at every fetch.
func drawnImage(seed string, portrait bool) image.Image {
	h := sha256.Sum256([]byte(seed))
	w, ht := 480, 300
	if portrait {
		w, ht = 300, 400
	}
	img := image.NewRGBA(image.Rect(0, 0, w, ht))
	bg := color.RGBA{200 + h[0]%56, 200 + h[1]%56, 200 + h[2]%56, 255}
	fg := color.RGBA{h[3] % 128, h[4] % 128, h[5] % 128, 255}
	for y := range ht {
		for x := range w {
			img.Set(x, y, bg)
		}
	}
	fill := func(x0, y0, x1, y1 int) {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				img.Set(x, y, fg)
			}
		}
	}
	if portrait {
		// A head and shoulders.
		cx, cy, r := w/2, ht*2/5, w/5
		for y := cy - r; y < cy+r; y++ {
			for x := cx - r; x < cx+r; x++ {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) < r*r {
					img.Set(x, y, fg)
				}
			}
		}
		fill(w/5, ht*3/4, w*4/5, ht)
		return img
	}
	// A photo box and lines of text.
	fill(24, 60, 144, 220)
	for i := range 6 {
		n := 160 + int(h[6+i])%140
		fill(168, 64+i*26, 168+n, 76+i*26)
	}
	return img
}

// writeImage answers an image as PNG, or as JPEG when the client accepts
// JPEG and not PNG.
func writeImage(w http.ResponseWriter, r *http.Request, img image.Image) error {
	var buf bytes.Buffer
	ctype := "image/png"
	accept := r.Header.Get("Accept")
	if strings.Contains(accept, "image/jpeg") && !strings.Contains(accept, "image/png") {
		ctype = "image/jpeg"
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
			return err
		}
	} else if err := png.Encode(&buf, img); err != nil {
		return err
	}
	writeBytes(w, ctype, buf.Bytes())
	return nil
}

// writeBytes answers bytes of a content type.
func writeBytes(w http.ResponseWriter, ctype string, b []byte) {
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
