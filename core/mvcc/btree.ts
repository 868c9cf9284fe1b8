import sortedBTree from 'sorted-btree';
import type sortedBTreeTypes from 'sorted-btree';

/**
 * sorted-btree's B+ tree. The package is CommonJS with `exports.default = BTree`: under Node's ESM
 * loader its default import is the whole `module.exports` (the class is its `default`), under a
 * CommonJS loader with interop it is the class itself.
 */
const loaded = sortedBTree as unknown as { readonly default?: typeof sortedBTree.default };
export const BTree = (loaded.default ?? sortedBTree) as typeof sortedBTree.default;
export type BTree<K, V> = sortedBTreeTypes.default<K, V>;
