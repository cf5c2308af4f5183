'use client'

import { usePathname, useRouter, useSearchParams } from 'next/navigation'
import { useCallback, useMemo } from 'react'
import { parseRolloutFilters, serializeRolloutFilters, type RolloutFilters } from './url-state.ts'

/** The rollout list's filters, read from and written to the URL (replace, not push). */
export function useRolloutFilters(): [RolloutFilters, (next: RolloutFilters) => void] {
  const params = useSearchParams()
  const router = useRouter()
  const pathname = usePathname()
  const query = params.toString()
  const filters = useMemo(() => parseRolloutFilters(new URLSearchParams(query)), [query])
  const setFilters = useCallback(
    (next: RolloutFilters) => router.replace(`${pathname}${serializeRolloutFilters(next)}`, { scroll: false }),
    [router, pathname],
  )
  return [filters, setFilters]
}
