; Beat cuts: one slice per beat, alternating between two clips, each slice
; flashing brighter at its start.
(recipe "beat-cuts" :version "1.0" :description "Cut between two videos on every beat"
  (input clip_a :type video :description "First clip")
  (input clip_b :type video :description "Second clip")
  (input music :type audio :description "Soundtrack")
  (def beats (analyze music :features [beats tempo]))
  (def cuts (map beats clip_a clip_b :over beats :every 1 :pick cycle
                 :effect brightness :amount (* 0.4 (decay 8))))
  (def out (mux cuts music))
  out)
