# bash completion for concdemo. The scenarios and their fixes come from the
# program itself (`concdemo list --json`), so a new scenario completes
# without a change here.

_concdemo_list()
{
    # One line per scenario: "NAME VARIANT VARIANT ...".
    "$1" list --json 2>/dev/null | tr '{' '\n' | sed -n \
        's/.*"name":"\([^"]*\)".*"variants":\[\([^]]*\)\].*/\1 \2/p' |
        sed -e 's/","/ /g' -e 's/"//g' -e 's/ broken//'
}

_concdemo()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion -n = || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi
    local bin=${words[0]} list names cmd scenario i
    list=$(_concdemo_list "$bin")
    names=$(printf '%s\n' "$list" | cut -d' ' -f1)

    # The command or scenario: the first word that is not an option.
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        -*) ;;
        run|explore|check|help|bench|list)
            [ -z "$cmd" ] && cmd=${words[i]} && continue
            [ -z "$scenario" ] && scenario=${words[i]} ;;
        *)  if [ -z "$cmd" ]; then cmd=run; scenario=${words[i]}
            elif [ -z "$scenario" ]; then scenario=${words[i]}; fi ;;
        esac
    done

    if [ -z "$cmd" ]; then
        COMPREPLY=($(compgen -W "$names explore check bench list help
            --help --version" -- "$cur"))
        return
    fi
    case $cmd in
    list) COMPREPLY=($(compgen -W "--json" -- "$cur")); return ;;
    bench)
        if [ -z "$scenario" ]; then
            COMPREPLY=($(compgen -W "fanin" -- "$cur"))
            return
        fi
        COMPREPLY=($(compgen -W "--max-producers --messages --capacity
            --reps --sink --methods --csv --quick" -- "$cur"))
        return ;;
    esac
    if [ -z "$scenario" ]; then
        COMPREPLY=($(compgen -W "$names" -- "$cur"))
        return
    fi
    case $cur in
    --fixed=*)
        local fixes
        fixes=$(printf '%s\n' "$list" | awk -v s="$scenario" '$1 == s {
            for (i = 2; i <= NF; i++) print "--fixed=" $i }')
        COMPREPLY=($(compgen -W "$fixes" -- "$cur"))
        return ;;
    --slow-policy=*)
        COMPREPLY=($(compgen -W "--slow-policy=drop --slow-policy=disconnect" \
            -- "$cur"))
        return ;;
    --sched=*)
        COMPREPLY=($(compgen -W "--sched=random: --sched=pct: --sched=dfs
            --sched=replay: --sched=step" -- "$cur"))
        return ;;
    esac
    case $prev in
    --file|--save-schedule|--timeline|--trace-out) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    local flags
    flags=$("$bin" --help 2>/dev/null | sed -n 's/^  \(--[a-z-]*\).*/\1/p' |
            sort -u)
    case $cmd in
    explore) flags="--fixed= --strategy --runs --budget --seed --depth --bound
        --threads --iterations --latency-scale --spurious --save-schedule --json
        --timeline --trace-out --slow-policy" ;;
    check) flags="--file --budget --no-tsan --sched --trace --spurious" ;;
    esac
    COMPREPLY=($(compgen -W "$flags --fixed=" -- "$cur"))
    [[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null
}
complete -F _concdemo concdemo
