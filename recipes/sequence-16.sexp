; Sixteen one-second colour cards around the hue circle, joined with crossfades.
; The planner reduces the SEQUENCE pairwise: 16 parts plan in 5 levels
; (the sources at level 0, then 4 rounds of joins).
(recipe "sequence-16" :version "1.0" :description "A 16-part crossfaded colour sequence"
  (def reel
    (sequence
      (source :generator color :duration 1 :color [229 45 45])
      (source :generator color :duration 1 :color [229 114 45])
      (source :generator color :duration 1 :color [229 183 45])
      (source :generator color :duration 1 :color [206 229 45])
      (source :generator color :duration 1 :color [137 229 45])
      (source :generator color :duration 1 :color [68 229 45])
      (source :generator color :duration 1 :color [45 229 91])
      (source :generator color :duration 1 :color [45 229 160])
      (source :generator color :duration 1 :color [45 229 229])
      (source :generator color :duration 1 :color [45 160 229])
      (source :generator color :duration 1 :color [45 91 229])
      (source :generator color :duration 1 :color [68 45 229])
      (source :generator color :duration 1 :color [137 45 229])
      (source :generator color :duration 1 :color [206 45 229])
      (source :generator color :duration 1 :color [229 45 183])
      (source :generator color :duration 1 :color [229 45 114])
      :transition crossfade :duration 0.25))
  reel)
