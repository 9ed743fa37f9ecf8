; Threading with ->: a clip through a fixed chain of effects, resized for the web.
(recipe "effects-chain" :version "1.0" :description "Invert, blur and tint a clip"
  (input video :type video :description "Source video")
  (-> video
      (segment :start 2 :duration 10)
      (resize :width 1280 :height 720 :mode fill)
      (effect invert)
      (effect blur :radius 2.5)
      (transform :saturation 1.4 :hue 15)))
