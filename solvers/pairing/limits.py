"""The sizes and tolerances that choose between the pairing methods."""

#: Largest number of people paired exactly (sparse blossom) rather than by local search.
EXACT_LIMIT = 3000


#: The local search stops once this close to its bound (0.05%: under one
#: point per thousand pairs), rather than spend seconds on the last few.
GAP_TOLERANCE = 0.0005


#: Largest number of people for which n×n matrices are built (bounds, candidates).
DENSE_LIMIT = 3000


#: Largest round of groups of three or more (or pairs with a triad) solved
#: exactly by CP-SAT.
CP_SAT_LIMIT = 12


#: Largest round for which CP-SAT is asked when the local search breaks a rule.
CP_SAT_RESCUE_LIMIT = 40


RESCUE_SECONDS = 5


#: Up to this many people, odd rounds try TRIAD_TRIES people as the extra one
#: of the triad (one exact matching each) and keep the best.
TRIAD_SEARCH_LIMIT = 400


TRIAD_TRIES = 8


#: Up to this many people the whole graph is solved at once; above it a sparse
#: graph first, certified by the assignment bound and its dual (whole against
#: sparse: 0.06 against 0.10 s at 500 people, 0.36 against 0.16 s at 1,000,
#: 3.1 against 1.5 s at 2,000).
DIRECT_LIMIT = 700


#: Most pairs for which the whole graph is solved when the sparse answer is not
#: certified optimal (about 2,000 people's worth).
FULL_GRAPH_EDGES = 2_100_000


#: Groups of three or more: the set-partitioning bound (column generation over
#: types) runs for rounds of at most this many types of people, within
#: PARTITION_SECONDS, each exact pricing within PARTITION_NODES units of work
#: (about one per candidate looked at: a second is 150–600 million).
PARTITION_TYPE_LIMIT = 1500


#: Groups of five or more: the exact pricing rarely finishes beyond this many
#: types (300 people in groups of 5 take 1.4 s; 1,000 would spend the 3 s
#: for nothing), so larger rounds keep the counting bound.
PARTITION_LARGE_GROUP_TYPES = 250


PARTITION_SECONDS = 3.0


PARTITION_NODES = 400_000_000
