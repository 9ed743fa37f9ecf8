; audio fed to a video-only effect
(recipe "mismatch"
  (input music :type audio)
  (def inverted (effect invert music))
  inverted)
