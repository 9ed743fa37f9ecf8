(recipe "loop"
  (def a (effect invert b))
  (def b (effect blur a :radius 2))
  b)
