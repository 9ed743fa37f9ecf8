; The specification's beat-sync recipe, S-expression twin of beat-sync.yaml.
(recipe "beat-sync" :version "1.0" :description "Synchronize video to audio beats"
  (input video :type video :description "Source video")
  (input audio :type audio :description "Audio track")
  (def analyze_audio (analyze audio :features [beats energy]))
  (def sync_video (beat-sync video analyze_audio :mode stretch))
  sync_video)
