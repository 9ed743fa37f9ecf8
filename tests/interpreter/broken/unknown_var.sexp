(recipe "expr"
  (input video :type video)
  (def spin (effect hue video :degrees (* 90 tt)))
  spin)
