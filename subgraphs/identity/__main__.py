from subgraphs.kit.serve import serve

serve("identity")
