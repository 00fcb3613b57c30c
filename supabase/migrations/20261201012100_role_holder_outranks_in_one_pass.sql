-- update_role and delete_role check whether a holder of the role outranks the
-- caller in one pass over the holders' roles, reading the caller's rank once.
--
-- private.role_holder_outranks(role, user) called private.max_rank twice for
-- each holder of the role, the caller's own rank included, which never
-- changes: update_role taking a permission away took 28 ms with 614 holders
-- and 327 ms with 2,026 (a 1,000,000-client data set), about 0.15 ms a
-- holder, so a role held by some 50,000 members would outrun the API's 8 s.
-- Now an organization's own role (every role these calls change) compares
-- the ranks of its holders' roles with the caller's rank, read once; a
-- built-in role, held across organizations, is checked per organization as
-- before. The answer is the same: a holder outranks the caller when any of
-- their roles there ranks above every role of the caller there.

set lock_timeout = '10s';
set statement_timeout = '15min';

create or replace function private.role_holder_outranks(role_id uuid, user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select coalesce((
    select case
      when t.organization_id is null then exists (
        select 1
        from public.user_roles ur
        where ur.role_id = role_holder_outranks.role_id
          and private.max_rank(ur.organization_id, ur.user_id) > private.max_rank(ur.organization_id, role_holder_outranks.user_id))
      else exists (
        select 1
        from public.user_roles ur
        join public.user_roles held on held.organization_id = ur.organization_id and held.user_id = ur.user_id
        join public.roles r on r.id = held.role_id
        where ur.role_id = role_holder_outranks.role_id
          -- The caller's rank, read once (a sub-select of the outer row only).
          and r.rank > (select private.max_rank(t.organization_id, role_holder_outranks.user_id)))
    end
    from public.roles t
    where t.id = role_holder_outranks.role_id), false)
$$;
comment on function private.role_holder_outranks(uuid, uuid) is
  'Whether a member holding the role ranks above the user in its organization (a member ranks as her highest role): changing what the role gives its holders would then reach someone the user may not manage. For an organization''s own role, one pass over its holders'' roles against the user''s rank there, read once.';
