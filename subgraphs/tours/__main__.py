from subgraphs.kit.serve import serve

serve("tours")
