(recipe "typo"
  (input video :type video)
  (def soft (effect blur video
                    :radios 3))
  soft)
