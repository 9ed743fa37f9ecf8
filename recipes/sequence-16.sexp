; Sixteen one-second colour cards around the hue circle, joined with crossfades.
; Colours in hex here, [r, g, b] in the YAML twin: both are the same recipe.
; The planner reduces the SEQUENCE pairwise: 16 parts plan in 5 levels
; (the sources at level 0, then 4 rounds of joins).
(recipe "sequence-16" :version "1.0" :description "A 16-part crossfaded colour sequence"
  (def reel
    (sequence
      (source :generator color :duration 1 :color "#e52d2d")
      (source :generator color :duration 1 :color "#e5722d")
      (source :generator color :duration 1 :color "#e5b72d")
      (source :generator color :duration 1 :color "#cee52d")
      (source :generator color :duration 1 :color "#89e52d")
      (source :generator color :duration 1 :color "#44e52d")
      (source :generator color :duration 1 :color "#2de55b")
      (source :generator color :duration 1 :color "#2de5a0")
      (source :generator color :duration 1 :color "#2de5e5")
      (source :generator color :duration 1 :color "#2da0e5")
      (source :generator color :duration 1 :color "#2d5be5")
      (source :generator color :duration 1 :color "#442de5")
      (source :generator color :duration 1 :color "#892de5")
      (source :generator color :duration 1 :color "#ce2de5")
      (source :generator color :duration 1 :color "#e52db7")
      (source :generator color :duration 1 :color "#e52d72")
      :transition crossfade :duration 0.25))
  reel)
