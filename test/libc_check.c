/* libc_check.c: linked against libh2core.a with nothing but libc
 * (-nodefaultlibs -lc). If the core needed anything else, the link fails.
 * It references one symbol from each core module so they are all pulled in. */
#include <stdio.h>

#include "h2_err.h"
#include "h2_mem.h"

int main(void) {
  const h2_mem *m = h2_mem_default();
  void *p = h2_mem_malloc(m, 16);
  if (!p) return 1;
  h2_mem_free(m, p);
  if (h2_err_rfc_code(H2_ERR_HPACK_INDEX_ZERO) != 0x9) return 1;
  printf("libc_check: libh2core.a links with libc only\n");
  return 0;
}
