from subgraphs.kit.serve import serve

serve("reports")
