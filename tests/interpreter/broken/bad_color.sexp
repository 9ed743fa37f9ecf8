; a colour name with a typo
(recipe "bad-color" :version "1.0"
  (def bg (source :generator color :color crimsn :duration 2))
  bg)
