(recipe "broken"
  (input video :type video)
  (-> video (effect invert)
