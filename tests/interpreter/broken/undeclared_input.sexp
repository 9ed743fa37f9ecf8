; declares one input, so every input must be declared
(recipe "undeclared" :version "1.0"
  (input music :type audio)
  (def out (mux (-> (source :input "video") (effect invert)) music))
  out)
