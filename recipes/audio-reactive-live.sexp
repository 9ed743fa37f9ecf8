; Live audio-reactive demo: runs with no input files.
; A moving test pattern is driven by a 120 BPM click track: the hue turns with
; time, every beat kicks the zoom (a decay envelope) and the bass splits RGB.
(recipe "audio-reactive-live" :version "1.0"
  :description "Generated video reacting to a generated beat track"
  (param intensity 1.0 :min 0 :max 2 :description "strength of the beat response")
  (def video (source :generator testsrc :duration 30 :width 640 :height 360 :fps 30))
  (def beat (source :generator clicks :duration 30 :bpm 120))
  (def features (analyze beat :features [beats energy bands]))
  (def pulsed
    (-> video
        (effect hue features :degrees (* 90 t))
        (effect transform features :zoom (+ 1 (* 0.15 intensity (decay 6))))
        (effect rgb_split features :x (* 24 intensity bass))
        (effect vignette features :amount (clamp (+ 0.3 energy) 0 1))))
  (def show (mux pulsed beat))
  show)
