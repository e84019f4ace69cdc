from subgraphs.kit.serve import serve

serve("finance")
