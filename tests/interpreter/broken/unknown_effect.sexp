(recipe "typo"
  (input video :type video)
  (effect invertt video))
