; Glass-to-glass latency: a test pattern stamped with the wall clock at render
; time (the timecode band along the top edge) over 120 BPM clicks. Run it live
; (POST /runs with "pace": 1); a viewer reads the band off the shown frame and
; subtracts it from its own clock (bench/latency.py, tests/web/test_web_latency.py).
; Not deterministic: clock wall stamps when each frame renders.
(recipe "latency-timecode" :version "1.0"
  :description "Wall-clock timecode over a test pattern, for glass-to-glass latency"
  (def video (source :generator testsrc :duration 120 :width 640 :height 360 :fps 30))
  (def beat (source :generator clicks :duration 120 :bpm 120))
  (def stamp (-> video (effect timecode :clock wall)))
  (def show (mux stamp beat))
  show)
