package flowui

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"sync"
)

// background is the UI's flow background, made once: a soft diagonal
// gradient with a few broad waves, which CSS scales to cover the page.
var background = sync.OnceValue(func() []byte {
	const w, h = 240, 150
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	from, to := [3]float64{22, 44, 84}, [3]float64{58, 120, 140}
	for y := range h {
		for x := range w {
			t := (float64(x)/w + float64(y)/h) / 2
			t += 0.06 * math.Sin(float64(x)/w*2*math.Pi+float64(y)/h*3)
			t = min(max(t, 0), 1)
			var c [3]uint8
			for i := range c {
				c[i] = uint8(from[i] + (to[i]-from[i])*t)
			}
			img.Set(x, y, color.RGBA{c[0], c[1], c[2], 255})
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 92})
	return b.Bytes()
})

// avatar is the default avatar (executor.DefaultAvatar), made once: a
// head and shoulders on a grey disc.
var avatar = sync.OnceValue(func() []byte {
	const n = 64
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	bg, fg := color.NRGBA{196, 201, 209, 255}, color.NRGBA{250, 250, 252, 255}
	in := func(x, y, cx, cy, r float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }
	for y := range n {
		for x := range n {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			switch {
			case !in(fx, fy, 32, 32, 32):
			case in(fx, fy, 32, 25, 11), in(fx, fy, 32, 62, 22):
				img.Set(x, y, fg)
			default:
				img.Set(x, y, bg)
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
})
